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
"""Unit tests of :mod:`esi_agent.reports` (Guru Meditation Reports)."""

import os
from unittest import mock

from esi_agent import reports
from esi_agent.tests import base


class TestJobsSection(base.TestCase):

    def service(self, running=True, in_flight=0):
        service = mock.Mock(running=running, host='agent-1')
        runner = service.manager.runner
        runner._active.return_value = [mock.Mock(id='job-%03d' % i)
                                       for i in range(in_flight)]
        runner.index.count_by_status.return_value = {'PENDING': 2}
        service.manager.coordinator.members.return_value = ['agent-1']
        service.stats.return_value = {'heat_calls': 3}
        return service

    def test_parent_process_points_at_the_worker(self):
        model = reports.JobsSection(self.service(running=False))()
        self.assertEqual(['process'], list(model))
        self.assertIn('worker process', model['process'])

    def test_jobs_of_the_agent(self):
        model = reports.JobsSection(self.service(in_flight=2))()
        self.assertEqual(
            ('agent-1', ['agent-1'], {'PENDING': 2}, ['job-000', 'job-001'],
             {'heat_calls': 3}),
            (model['host'], model['agents alive'], model['jobs by state'],
             model['jobs in flight'], model['counters']))
        self.assertIn('jobs in flight', model.to_text())

    def test_long_in_flight_list_is_cut(self):
        model = reports.JobsSection(self.service(
            in_flight=reports.MAX_LISTED + 5))()
        listed = model['jobs in flight']
        self.assertEqual(reports.MAX_LISTED + 1, len(listed))
        self.assertEqual('... and 5 more', listed[-1])


class TestReportFile(base.TestCase):

    def test_file_is_named_after_the_process(self):
        with mock.patch.object(reports.gmr.TextGuruMeditation,
                               'handle_signal') as handle:
            reports.AgentReport.handle_signal('v', 'esi-agent', '/d', None)
        handle.assert_called_once_with(
            'v', 'esi-agent-%d' % os.getpid(), '/d', None)
