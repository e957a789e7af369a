# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License. You may obtain
# a copy of the License at
#
#      http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
# WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
# License for the specific language governing permissions and limitations
# under the License.

from oslo_config import cfg

from esi_agent.i18n import _

templates_group = cfg.OptGroup(
    name='templates',
    title='Heat template options',
    help=_('How the agent picks and finds the Heat template of a job.'))

opts = [
    cfg.StrOpt('mapping_file',
               help=_('JSON file that maps resource types to template ids '
                      '(key "heat_worker"), in the mapping mini-language: '
                      'C<text>, P<field>, A<part>&<part>, if/then/else. A '
                      'resource type without an entry, or every resource '
                      'type when this option is unset, uses its own name '
                      'as the template id.')),
    cfg.StrOpt('template_dir',
               help=_('Directory with <template_id>.yaml files, used when '
                      'etcd has no /config/v2.0/heat_templates/<template_id> '
                      'record for a template (or it is marked for '
                      'deletion). Unset, templates come from etcd only.')),
    cfg.FloatOpt('refresh_interval', default=1.0, min=0,
                 help=_('Seconds during which the agent renders from the '
                        'template bodies it keeps in memory without '
                        'checking them. The first render after that checks '
                        'them: one small etcd request tells whether any '
                        'record under /config/v2.0/heat_templates/ changed '
                        '(then they are all read again), and the '
                        'template_dir files are read again. A template '
                        'published, marked for deletion or deleted in etcd, '
                        'or changed in template_dir, is thus used by the '
                        'jobs rendered this long after the change at the '
                        'latest. 0 checks at every render.')),
]


def register_opts(conf):
    conf.register_group(templates_group)
    conf.register_opts(opts, group=templates_group)


def list_opts():
    return {templates_group: opts}
