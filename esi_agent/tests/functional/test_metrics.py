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
"""The Prometheus endpoint of a real ``esi-agent`` process."""

import os

import fixtures
from prometheus_client import parser
import requests

from esi_agent.tests.functional import agent_process
from esi_agent.tests.functional import base
from esi_agent.tests.functional import jobs
from esi_agent.tests import services


class TestMetrics(base.FunctionalTestCase):

    def setUp(self):
        super().setUp()
        self.tmp = self.useFixture(fixtures.TempDir()).path
        template_dir = os.path.join(self.tmp, 'templates')
        os.mkdir(template_dir)
        jobs.write_templates(template_dir)
        self.port = services.free_port()
        self.agent = agent_process.AgentProcess(
            self, 'metrics', self.tmp, template_dir, metrics_port=self.port)
        services.wait_for(self.agent.serving, 30, 0.1, 'the agent to serve')

    def scrape(self):
        """{(name, ((label, value), ...)): value} of every sample."""
        text = requests.get('http://127.0.0.1:%d/metrics' % self.port,
                            timeout=10).text
        return {(s.name, tuple(sorted(s.labels.items()))): s.value
                for family in parser.text_string_to_metric_families(text)
                for s in family.samples}

    def test_counters_move_with_a_job(self):
        before = self.scrape()
        self.assertEqual(0, before[('esi_agent_heat_calls_total', ())])
        self.assertEqual(0, before[('esi_agent_intake_jobs_total',
                                    (('result', 'accepted'),))])
        self.assertEqual(1, before[('esi_agent_agents_alive', ())])
        self.assertGreater(before[('esi_agent_etcd_requests_total', ())], 0)

        net = jobs.network()
        self.cast(net)
        self.assertEqual({net['id']: 'COMPLETED'},
                         self.wait_final([net['id']]))
        duration = ('esi_agent_job_duration_seconds_count',
                    (('state', 'COMPLETED'),))

        def observed():
            # Observed right after the completion is written.
            scraped = self.scrape()
            return scraped if scraped.get(duration) == 1 else None

        after = services.wait_for(observed, 10,
                                  what='the duration of the job')
        self.assertEqual(1, after[('esi_agent_intake_jobs_total',
                                   (('result', 'accepted'),))])
        self.assertEqual(1, after[('esi_agent_jobs',
                                   (('state', 'COMPLETED'),))])
        self.assertEqual(0, after[('esi_agent_jobs',
                                   (('state', 'PENDING'),))])
        self.assertEqual(0, after[('esi_agent_jobs_in_flight', ())])
        self.assertGreater(after[('esi_agent_heat_calls_total', ())], 0)
        self.assertGreater(after[('esi_agent_etcd_transactions_total', ())],
                           before[('esi_agent_etcd_transactions_total', ())])
        self.assertEqual(0, after[('esi_agent_etcd_errors_total', ())])
        self.assertGreater(after[('esi_agent_job_duration_seconds_sum',
                                  (('state', 'COMPLETED'),))], 0)
