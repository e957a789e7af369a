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
"""``esi-agent --config-file X`` as an operator runs it: a real process."""

import os
import signal

import fixtures

from esi_agent.tests.functional import agent_process
from esi_agent.tests.functional import base
from esi_agent.tests.functional import jobs
from esi_agent.tests import services


class TestAgentProcess(base.FunctionalTestCase):

    def setUp(self):
        super().setUp()
        tmp = self.useFixture(fixtures.TempDir()).path
        template_dir = os.path.join(tmp, 'templates')
        os.mkdir(template_dir)
        jobs.write_templates(template_dir)
        self.tmp, self.template_dir = tmp, template_dir

    def test_runs_in_foreground_and_stops_on_sigterm(self):
        agent = agent_process.AgentProcess(self, 'cli', self.tmp,
                                           self.template_dir)
        services.wait_for(lambda: 'serving topic %s' % self.topic
                          in agent.log(), 30, 0.1, 'the agent to serve')
        net = jobs.network()
        self.cast(net)
        self.assertEqual({net['id']: 'COMPLETED'},
                         self.wait_final([net['id']]))
        agent.proc.send_signal(signal.SIGTERM)
        self.assertEqual(0, agent.proc.wait(30))
        self.assertIn('stopped', agent.log())
        self.assertNotIn('Traceback', agent.log())
