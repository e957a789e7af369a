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
from oslo_serialization import jsonutils
from oslo_service import service

from esi_agent.heat import notifications
from esi_agent import manager as agent_manager
from esi_agent import metrics as agent_metrics
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
        self.notifications = None
        self.metrics = None
        # Started in this process (not true of the parent of the worker
        # process that oslo.service forks).
        self.running = False

    def start(self):
        super().start()
        self.running = True
        # Jobs already in etcd are loaded before the first new cast is
        # taken, so arrival order and duplicates are judged against them.
        self.manager.start()
        target = messaging.Target(topic=self.topic, server=self.host)
        self.rpcserver = rpc.get_server(self.conf, target, [self.manager])
        self.rpcserver.start()
        if self.conf.heat.notifications_enabled:
            self.notifications = notifications.NotificationListener(
                self.conf, self.manager.runner)
            try:
                self.notifications.start()
            except Exception:
                # Hints only: the periodic reconcile finishes the jobs.
                LOG.exception('Cannot listen to Heat notifications; stacks '
                              'are polled every %s s only',
                              self.conf.agent.reconcile_interval)
                self.notifications = None
        if self.conf.agent.metrics_port:
            self._start_metrics()
        self.tg.add_dynamic_timer(
            self.manager.periodic_tasks,
            periodic_interval_max=self.conf.agent.reconcile_interval,
            context=None)
        LOG.info('esi-agent %(host)s serving topic %(topic)s',
                 {'host': self.host, 'topic': self.topic})

    def _start_metrics(self):
        host, port = self.conf.agent.metrics_host, self.conf.agent.metrics_port
        metrics = agent_metrics.Metrics(self)
        try:
            metrics.start(host, port)
        except OSError as e:
            # The agent's work goes on without them.
            LOG.error('Cannot serve metrics on %(host)s:%(port)s: %(err)s',
                      {'host': host, 'port': port, 'err': e})
            self.manager.runner.on_final = None
            return
        self.metrics = metrics

    def stop(self, graceful=True):
        # Both stop at once (each waits for its poll to return), then the
        # messages they are handling are waited for.
        servers = [(server, what) for server, what in (
            (self.rpcserver, 'the RPC server'),
            (self.notifications, 'the notification listener'))
            if server is not None]
        for server, what in servers:
            try:
                server.stop()
            except Exception:
                LOG.exception('Failed to stop %s', what)
        for server, what in servers:
            try:
                server.wait()
            except Exception:
                LOG.exception('Failed to stop %s', what)
        self.manager.stop()
        if self.metrics is not None:
            self.metrics.stop()
        super().stop(graceful=graceful)
        LOG.info('esi-agent %(host)s stopped; %(stats)s',
                 {'host': self.host, 'stats': self.stats_line()})

    def stats(self):
        """Counters of the life of this service, as plain data."""
        manager = self.manager
        stats = {
            'etcd_txns': manager.etcd.txn_count,
            'etcd_requests': manager.etcd.request_count,
            'heat_calls': manager.stacks.calls,
            'intake': dict(manager.intake.stats),
        }
        if self.notifications is not None:
            stats['notifications'] = self.notifications.endpoint.stats
        return stats

    def stats_line(self):
        """The counters in one line, as the stop message logs them."""
        return 'stats: ' + jsonutils.dumps(self.stats(), sort_keys=True)
