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
"""Unit tests of :mod:`esi_agent.metrics`: what a scrape reads."""

import collections
import time
from unittest import mock

import prometheus_client
import requests

from esi_agent import metrics
from esi_agent.tests import base
from esi_agent.tests import services


def fake_service(notifications=True):
    service = mock.Mock()
    manager = service.manager
    manager.runner.index.count_by_status.return_value = collections.Counter(
        {'PENDING': 2, 'IN_PROGRESS': 1, 'COMPLETED': 5})
    manager.runner.in_flight.return_value = 1
    manager.runner.on_final = None
    manager.intake.stats = {'accepted': 8, 'duplicates': 1, 'rejected': 0,
                            'dropped': 0}
    manager.stacks.calls, manager.stacks.error_count = 12, 3
    manager.etcd.request_count, manager.etcd.txn_count = 40, 9
    manager.etcd.error_count = 2
    manager.coordinator.members.return_value = ['a', 'b']
    if notifications:
        service.notifications.endpoint.stats = {'received': 4, 'taken': 3}
    else:
        service.notifications = None
    return service


class TestCollector(base.TestCase):

    def setUp(self):
        super().setUp()
        self.service = fake_service()
        self.metrics = metrics.Metrics(self.service)

    def value(self, name, **labels):
        return self.metrics.registry.get_sample_value(name, labels)

    def test_counters_read_at_scrape_time(self):
        self.assertEqual(12, self.value('esi_agent_heat_calls_total'))
        self.service.manager.stacks.calls = 13
        self.assertEqual(13, self.value('esi_agent_heat_calls_total'))
        expected = {
            ('esi_agent_jobs', (('state', 'PENDING'),)): 2,
            ('esi_agent_jobs', (('state', 'RUNNING'),)): 0,
            ('esi_agent_jobs', (('state', 'IN_PROGRESS'),)): 1,
            ('esi_agent_jobs', (('state', 'COMPLETED'),)): 5,
            ('esi_agent_jobs', (('state', 'FAILED'),)): 0,
            ('esi_agent_jobs', (('state', 'SUPERSEDED'),)): 0,
            ('esi_agent_jobs_in_flight', ()): 1,
            ('esi_agent_intake_jobs_total', (('result', 'accepted'),)): 8,
            ('esi_agent_intake_jobs_total', (('result', 'duplicates'),)): 1,
            ('esi_agent_heat_errors_total', ()): 3,
            ('esi_agent_heat_notifications_total',
             (('result', 'received'),)): 4,
            ('esi_agent_etcd_requests_total', ()): 40,
            ('esi_agent_etcd_transactions_total', ()): 9,
            ('esi_agent_etcd_errors_total', ()): 2,
            ('esi_agent_agents_alive', ()): 2,
        }
        for (name, labels), value in expected.items():
            self.assertEqual(value, self.value(name, **dict(labels)),
                             '%s%s' % (name, dict(labels)))

    def test_no_notification_metrics_without_the_listener(self):
        service = fake_service(notifications=False)
        registry = metrics.Metrics(service).registry
        names = {m.name for m in registry.collect()}
        self.assertNotIn('esi_agent_heat_notifications', names)
        self.assertIn('esi_agent_heat_calls', names)

    def test_job_duration_observed_at_the_final_status(self):
        hook = self.service.manager.runner.on_final
        self.assertEqual(self.metrics.observe, hook)
        hook(mock.Mock(received_at=time.time() - 7), 'COMPLETED')
        hook(mock.Mock(received_at=time.time() - 0.1), 'FAILED')
        self.assertEqual(1, self.value(
            'esi_agent_job_duration_seconds_count', state='COMPLETED'))
        self.assertEqual(1, self.value(
            'esi_agent_job_duration_seconds_bucket', state='COMPLETED',
            le='10.0'))
        self.assertEqual(0, self.value(
            'esi_agent_job_duration_seconds_bucket', state='COMPLETED',
            le='5.0'))
        self.assertEqual(1, self.value(
            'esi_agent_job_duration_seconds_count', state='FAILED'))

    def test_own_registry(self):
        names = {m.name for m in prometheus_client.REGISTRY.collect()}
        self.assertNotIn('esi_agent_jobs', names)

    def test_served_over_http(self):
        port = services.free_port()
        self.metrics.start('127.0.0.1', port)
        self.addCleanup(self.metrics.stop)
        text = requests.get('http://127.0.0.1:%d/metrics' % port,
                            timeout=10).text
        self.assertIn('esi_agent_etcd_requests_total 40.0', text)
        self.assertIn('esi_agent_jobs{state="PENDING"} 2.0', text)
        self.metrics.stop()
        self.assertFalse(services.port_open('127.0.0.1', port))
