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
"""Several agent processes on one topic; one of them killed with SIGKILL.

The agents are real ``esi-agent`` processes against real etcd and
RabbitMQ; Heat is the stand-in served from the test process, which counts
the creates of every stack name.
"""

import time

from esi_agent.tests.functional import agent_process
from esi_agent.tests.functional import base
from esi_agent.tests.functional import jobs
from esi_agent.tests import services

LEASE_TTL = 3


class TestSeveralAgents(agent_process.AgentProcessTestCase):

    STACK_TIME = 2.0

    def setUp(self):
        super().setUp()
        self.agents = [
            self.start_agent_process(
                'agent%d' % i, wait=False, reconcile_interval=0.5,
                lease_ttl=LEASE_TTL, sync_interval=0.2,
                max_concurrent_jobs=8)
            for i in range(3)]
        services.wait_for(lambda: all(a.serving() for a in self.agents),
                          60, 0.1, 'three agents to serve')

    def test_kill_one_of_three_with_200_jobs_in_flight(self):
        made = jobs.networks_with_ports(40, ports_each=4)
        self.cast(*made)
        victim = self.agents[0]
        # Kill it while it owns unfinished jobs, some of them in Heat, once
        # every job is stored: a cast is acknowledged before it is
        # dispatched, so one that an agent took but had not stored yet
        # dies with it (the SPEC's window, the intake transaction).
        services.wait_for(
            lambda: sum(1 for o in self.claims().values()
                        if o == victim.host) >= 10 and
            self.heat.calls['create'] >= 20 and
            all(self.job_status(j['id']) for j in made),
            60, 0.05, 'the victim to own jobs in flight')
        orphans = {j for j, o in self.claims().items() if o == victim.host}
        victim.kill()
        killed_at = time.monotonic()
        survivors = {a.host for a in self.agents[1:]}

        def taken_over():
            # Every orphan is claimed by a survivor, or already finished.
            claims = self.claims()
            return all(claims.get(j) in survivors
                       or self.job_status(j) in base.FINAL for j in orphans)

        # The lease of the victim expires after LEASE_TTL; a survivor's
        # next sync claims its jobs (with slack for a loaded machine).
        services.wait_for(taken_over, 4 * LEASE_TTL, 0.05,
                          'the survivors to take the orphans over')
        takeover = time.monotonic() - killed_at
        self.assertAllCompletedOnce(made, timeout=180)
        finished = time.monotonic() - killed_at
        logs = ''.join(a.log() for a in self.agents[1:])
        self.assertIn('taking it over', logs)
        self.assertNotIn('Traceback', logs)
        print('%d orphaned jobs of the killed agent, taken over %.1f s '
              'after the kill (lease TTL %d s); all %d jobs finished %.1f s '
              'after the kill' % (len(orphans), takeover, LEASE_TTL,
                                  len(made), finished))
