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
"""Client side of the esi-agent RPC API: what the ESI API imports.

API version history:

* 1.0 - Initial version: ``process_job(context, job)`` (cast).
"""

import oslo_messaging as messaging

from esi_agent import conf as esi_conf
from esi_agent import rpc

CONF = esi_conf.CONF


class AgentAPI(object):
    """Client side of the agent RPC API.

    ``AgentAPI().process_job(context, job)`` casts one job to whichever
    agent serving ``[agent] rpc_topic`` takes it first.
    """

    RPC_API_VERSION = '1.0'

    def __init__(self, topic=None, conf=None, retry=None):
        """A client of ``topic`` (default ``[agent] rpc_topic``).

        :param retry: how many times a cast retries to reach the bus
            (None: until it does, 0: not at all).
        """
        conf = conf or CONF
        self._retry = retry
        target = messaging.Target(topic=topic or conf.agent.rpc_topic,
                                  version=self.RPC_API_VERSION)
        self.client = rpc.get_client(conf, target,
                                     version_cap=self.RPC_API_VERSION)

    def process_job(self, context, job):
        """Cast a job (SPEC section 3) to an agent; returns at once."""
        cctxt = self.client.prepare(version='1.0', retry=self._retry)
        cctxt.cast(context, 'process_job', job=job)
