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
"""Prometheus metrics of an agent, on ``[agent] metrics_port``.

The counters the agent keeps anyway (the job index, the intake, the Heat
and etcd clients) are read when Prometheus scrapes, by a custom collector:
nothing on the path of a job is instrumented, except the observation of
a job's duration when it reaches its final status. The metrics have a
registry of their own (not prometheus_client's global one).

The metrics (doc/source/operations.rst describes them):

- ``esi_agent_jobs{state}``, ``esi_agent_jobs_in_flight``,
  ``esi_agent_job_duration_seconds{state}`` (histogram),
  ``esi_agent_intake_jobs_total{result}``;
- ``esi_agent_heat_calls_total``, ``esi_agent_heat_errors_total``,
  ``esi_agent_heat_notifications_total{result}``;
- ``esi_agent_etcd_requests_total``, ``esi_agent_etcd_transactions_total``,
  ``esi_agent_etcd_errors_total``;
- ``esi_agent_agents_alive``.
"""

import time

from oslo_log import log as logging
import prometheus_client
from prometheus_client import core

from esi_agent.jobs import scheduler
from esi_agent.jobs import store

LOG = logging.getLogger(__name__)

STATES = ((store.PENDING,) + scheduler.ACTIVE + store.FINAL_STATUSES)

# Seconds: a job waits for Heat (seconds to minutes) and perhaps for its
# dependencies (up to [agent] dependency_timeout, an hour by default).
DURATION_BUCKETS = (0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600,
                    float('inf'))


def _counter(name, documentation, value):
    return core.CounterMetricFamily(name, documentation, value=value)


class AgentCollector(object):
    """Reads an AgentService's counters at scrape time."""

    def __init__(self, agent_service):
        self._service = agent_service

    def collect(self):
        service = self._service
        manager = service.manager
        runner = manager.runner
        jobs = core.GaugeMetricFamily(
            'esi_agent_jobs', 'Jobs this agent knows (its own and, as of '
            'its last sync, the other agents\'), by state.',
            labels=['state'])
        counts = runner.index.count_by_status()
        for state in STATES:
            jobs.add_metric([state], counts.get(state, 0))
        yield jobs
        yield core.GaugeMetricFamily(
            'esi_agent_jobs_in_flight',
            'Jobs of this agent whose stacks Heat is building.',
            value=runner.in_flight())
        intake = core.CounterMetricFamily(
            'esi_agent_intake_jobs', 'Jobs cast to this agent, by what '
            'became of them at intake.', labels=['result'])
        for result, count in sorted(manager.intake.stats.items()):
            intake.add_metric([result], count)
        yield intake
        yield _counter('esi_agent_heat_calls',
                       'Heat API calls, retries included.',
                       manager.stacks.calls)
        yield _counter('esi_agent_heat_errors',
                       'Heat API calls that failed (refusals, 404 and 409 '
                       'the agent converges from included).',
                       manager.stacks.error_count)
        if service.notifications is not None:
            notes = core.CounterMetricFamily(
                'esi_agent_heat_notifications',
                'Heat notifications received, by outcome.',
                labels=['result'])
            for result, count in sorted(
                    service.notifications.endpoint.stats.items()):
                notes.add_metric([result], count)
            yield notes
        yield _counter('esi_agent_etcd_requests',
                       'etcd requests, retries included.',
                       manager.etcd.request_count)
        yield _counter('esi_agent_etcd_transactions',
                       'etcd transactions.', manager.etcd.txn_count)
        yield _counter('esi_agent_etcd_errors',
                       'etcd requests that failed.',
                       manager.etcd.error_count)
        yield core.GaugeMetricFamily(
            'esi_agent_agents_alive',
            'Agents in the tooz group, as this agent last saw it.',
            value=len(manager.coordinator.members()))


class Metrics(object):
    """The registry of an agent's metrics and its HTTP endpoint."""

    def __init__(self, agent_service):
        self.registry = prometheus_client.CollectorRegistry()
        self.registry.register(AgentCollector(agent_service))
        self.duration = prometheus_client.Histogram(
            'esi_agent_job_duration_seconds',
            'Seconds from the receipt of a job (or its retry) to its final '
            'status, by final status.', ['state'],
            buckets=DURATION_BUCKETS, registry=self.registry)
        agent_service.manager.runner.on_final = self.observe
        self._server = None
        self._thread = None

    def observe(self, entry, status):
        """A job of this agent reached its final status."""
        self.duration.labels(state=status).observe(
            max(time.time() - entry.received_at, 0.0))

    def start(self, host, port):
        """Serve /metrics on ``host:port``; raises OSError if it cannot."""
        self._server, self._thread = prometheus_client.start_http_server(
            port, addr=host, registry=self.registry)
        LOG.info('Serving metrics on http://%(host)s:%(port)s/metrics',
                 {'host': host, 'port': port})

    def stop(self):
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join()
            self._server = None
