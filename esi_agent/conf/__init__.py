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

"""All options of esi-agent, registered on the global cfg.CONF."""

from oslo_config import cfg

from esi_agent.conf import agent
from esi_agent.conf import default
from esi_agent.conf import etcd
from esi_agent.conf import heat
from esi_agent.conf import templates

CONF = cfg.CONF

agent.register_opts(CONF)
default.register_opts(CONF)
etcd.register_opts(CONF)
heat.register_opts(CONF)
templates.register_opts(CONF)
