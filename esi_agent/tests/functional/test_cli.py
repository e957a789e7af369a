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

import signal

from esi_agent.tests.functional import agent_process
from esi_agent.tests.functional import jobs


class TestAgentProcess(agent_process.AgentProcessTestCase):

    STACK_TIME = 0.0

    def test_runs_in_foreground_and_stops_on_sigterm(self):
        agent = self.start_agent_process('cli')
        net = jobs.network()
        self.cast(net)
        self.assertEqual({net['id']: 'COMPLETED'},
                         self.wait_final([net['id']]))
        agent.proc.send_signal(signal.SIGTERM)
        self.assertEqual(0, agent.proc.wait(30))
        self.assertIn('stopped', agent.log())
        self.assertNotIn('Traceback', agent.log())
