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
"""``kill -9`` of the agent at each step of a job, then a restart.

Every job ends finished exactly once: one create per stack name (the
stand-in counts them, requests that reached it while the agent died
included), all jobs COMPLETED. The restarted agent keeps its host name,
so it resumes its own claims rather than waiting for them to expire.
"""

from esi_agent.jobs import store
from esi_agent.tests.fakes import heat_api
from esi_agent.tests.functional import agent_process
from esi_agent.tests.functional import jobs
from esi_agent.tests import services


class TestKillNine(agent_process.AgentProcessTestCase):

    def setUp(self):
        super().setUp()
        self.agent = self.start_agent_process()

    def restart(self):
        self.agent.kill()
        self.agent.start()
        services.wait_for(self.agent.serving, 60, 0.1,
                          'the agent to serve again')

    def pending(self, made):
        return [j for j in made
                if (self.job_record(j['id']) or {}).get('status')
                == store.PENDING]

    def test_between_intake_and_heat_create(self):
        # Heat holds every request: the creates reach it, but the agent
        # dies before it hears back (a create Heat carries out anyway).
        self.heat.pause()
        made = jobs.networks_with_ports(4)
        self.cast(*made)
        services.wait_for(
            lambda: len(self.pending(made)) == len(made)
            and self.heat.calls['create'] >= 1, 30,
            what='the jobs stored and creates sent')
        self.agent.kill()
        self.heat.resume()
        self.agent.start()
        self.assertAllCompletedOnce(made)

    def test_while_stacks_are_in_progress(self):
        self.heat.outcome = lambda op: heat_api.Outcome(delay=3.0)
        made = jobs.networks_with_ports(4)
        self.cast(*made)
        services.wait_for(lambda: self.heat.calls['create'] >= 4, 30,
                          what='the network stacks in progress')
        self.restart()
        self.assertAllCompletedOnce(made)
        self.assertIn('adopting stack', self.agent.log())

    def test_between_heat_completion_and_the_records(self):
        made = jobs.networks_with_ports(networks=3, ports_each=0)
        self.cast(*made)
        services.wait_for(lambda: self.heat.calls['create'] == 3, 30,
                          what='the creates')
        # Heat finishes the stacks but answers nothing more: the agent
        # cannot read their outputs, so no records are written.
        self.heat.pause()
        services.wait_for(
            lambda: all(t['stack_status'] == 'CREATE_COMPLETE'
                        for t in self.heat.timeline()), 30,
            what='the stacks to complete in Heat')
        self.assertEqual(3, len(self.pending(made)))
        self.agent.kill()
        self.heat.resume()
        self.agent.start()
        self.assertAllCompletedOnce(made)
