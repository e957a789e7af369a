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
"""Guru Meditation Reports of a real ``esi-agent`` process (SIGUSR2)."""

import glob
import os
import re
import signal

import fixtures
import psutil

from esi_agent.tests.functional import agent_process
from esi_agent.tests.functional import jobs
from esi_agent.tests import services


class TestGuruMeditation(agent_process.AgentProcessTestCase):

    STACK_TIME = 0.0

    def start(self):
        agent = agent_process.AgentProcess(self, 'gmr', self.tmp,
                                           self.template_dir)
        services.wait_for(agent.serving, 30, 0.1, 'the agent to serve')
        # oslo.service runs the agent in a worker process of its own.
        worker = services.wait_for(
            lambda: psutil.Process(agent.proc.pid).children(), 10,
            what='the worker process')[0]
        return agent, worker.pid

    def assertServes(self, agent):
        net = jobs.network()
        self.cast(net)
        self.assertEqual({net['id']: 'COMPLETED'},
                         self.wait_final([net['id']]))
        self.assertIsNone(agent.proc.poll())

    def test_report_to_log_dir(self):
        report_dir = os.path.join(self.tmp, 'reports')
        os.mkdir(report_dir)
        # Read by the agent as [oslo_reports] log_dir.
        self.useFixture(fixtures.EnvironmentVariable(
            'OS_OSLO_REPORTS__LOG_DIR', report_dir))
        agent, worker = self.start()

        os.kill(worker, signal.SIGUSR2)
        pattern = os.path.join(report_dir,
                               'esi-agent-%d_gurumeditation_*' % worker)
        path = services.wait_for(lambda: glob.glob(pattern), 20,
                                 what='the report of the worker')[0]
        # Written in one go, but wait for the end of it anyway.
        report = services.wait_for(lambda: _read_if_complete(path), 10,
                                   what='the whole report')
        for section in ('Package', 'Threads', 'Configuration', 'esi-agent'):
            self.assertTrue(re.search(r'^====\s+%s\s+====$' % section,
                                      report, re.M),
                            'no %s section in %s' % (section, path))
        texts = ('host = %s' % agent.host, 'product = esi-agent',
                 # The stack of the scheduling thread.
                 'esi_agent/jobs/runner.py', 'transport_url = ***')
        self.assertEqual([], [t for t in texts if t not in report],
                         'missing from %s' % path)

        os.kill(agent.proc.pid, signal.SIGUSR2)
        parent = services.wait_for(lambda: glob.glob(os.path.join(
            report_dir, 'esi-agent-%d_gurumeditation_*' % agent.proc.pid)),
            20, what='the report of the parent process')[0]
        report = services.wait_for(lambda: _read_if_complete(parent), 10,
                                   what='the whole report')
        self.assertEqual(1, report.count('the jobs run in its worker '
                                         'process'), parent)
        self.assertServes(agent)

    def test_report_to_stderr(self):
        agent, worker = self.start()
        os.kill(worker, signal.SIGUSR2)
        services.wait_for(lambda: 'jobs in flight' in agent.log(), 20,
                          what='the report in the log')
        self.assertIn('Guru Meditation', agent.log())
        self.assertServes(agent)
        self.assertNotIn('Unable to run Guru Meditation Report', agent.log())


def _read_if_complete(path):
    """The report, once written (the esi-agent section comes last)."""
    with open(path, errors='replace') as f:
        text = f.read()
    return text if re.search(r'^====\s+esi-agent\s+====$', text,
                             re.M) else None
