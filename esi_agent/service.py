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
"""The esi-agent oslo.service Service: RPC server and periodic tasks."""

from oslo_log import log as logging
import oslo_messaging as messaging
from oslo_service import service

from esi_agent import manager as agent_manager
from esi_agent import rpc

LOG = logging.getLogger(__name__)


class AgentService(service.Service):
    """Owns the manager, its RPC server and its periodic task timer."""

    def __init__(self, conf, host=None, manager=None):
        super().__init__()
        self.conf = conf
        self.host = host or conf.host
        self.topic = conf.agent.rpc_topic
        self.manager = manager or agent_manager.AgentManager(self.host, conf)
        self.rpcserver = None

    def start(self):
        super().start()
        # Jobs already in etcd are loaded before the first new cast is
        # taken, so arrival order and duplicates are judged against them.
        self.manager.start()
        target = messaging.Target(topic=self.topic, server=self.host)
        self.rpcserver = rpc.get_server(self.conf, target, [self.manager])
        self.rpcserver.start()
        self.tg.add_dynamic_timer(
            self.manager.periodic_tasks,
            periodic_interval_max=self.conf.agent.reconcile_interval,
            context=None)
        LOG.info('esi-agent %(host)s serving topic %(topic)s',
                 {'host': self.host, 'topic': self.topic})

    def stop(self, graceful=True):
        if self.rpcserver is not None:
            try:
                self.rpcserver.stop()
                self.rpcserver.wait()
            except Exception:
                LOG.exception('Failed to stop the RPC server')
        self.manager.stop()
        super().stop(graceful=graceful)
        LOG.info('esi-agent %s stopped', self.host)
