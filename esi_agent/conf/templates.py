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
]


def register_opts(conf):
    conf.register_group(templates_group)
    conf.register_opts(opts, group=templates_group)


def list_opts():
    return {templates_group: opts}
