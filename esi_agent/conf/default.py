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
import socket

from oslo_config import cfg

from esi_agent.i18n import _

opts = [
    cfg.HostnameOpt('host',
                    default=socket.gethostname(),
                    sample_default='localhost',
                    help=_('Name of this agent: its RPC server name and how '
                           'the other agents and the logs know it. Must be '
                           'unique among the agents of one deployment.')),
]


def register_opts(conf):
    conf.register_opts(opts)


def list_opts():
    return {'DEFAULT': opts}
