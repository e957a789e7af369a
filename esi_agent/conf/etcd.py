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

etcd_group = cfg.OptGroup(
    name='etcd',
    title='etcd options',
    help=_('Where the agent keeps its jobs and writes the resource records: '
           'the gRPC gateway of an etcd v3 cluster.'))

opts = [
    cfg.HostAddressOpt('host', default='127.0.0.1',
                       help=_('etcd gRPC gateway host.')),
    cfg.PortOpt('port', default=2379,
                help=_('etcd gRPC gateway port.')),
    cfg.StrOpt('protocol', default='http',
               choices=[('http', _('plain HTTP')),
                        ('https', _('TLS, verified with ca_cert; cert_cert '
                                    'and cert_key authenticate the agent'))],
               help=_('Scheme of the etcd endpoint.')),
    cfg.StrOpt('ca_cert',
               help=_('CA bundle used to verify the etcd server certificate '
                      '(with protocol = https).')),
    cfg.StrOpt('cert_cert',
               help=_('Client certificate presented to etcd.')),
    cfg.StrOpt('cert_key', secret=True,
               help=_('Private key of the client certificate.')),
    cfg.FloatOpt('timeout', default=10.0, min=0.1,
                 help=_('Timeout, in seconds, of one etcd request.')),
    cfg.FloatOpt('retry_timeout', default=300.0, min=0,
                 help=_('How long, in seconds, an etcd operation is retried '
                        'with exponential backoff while etcd is '
                        'unreachable before it gives up.')),
]


def register_opts(conf):
    conf.register_group(etcd_group)
    conf.register_opts(opts, group=etcd_group)


def list_opts():
    return {etcd_group: opts}
