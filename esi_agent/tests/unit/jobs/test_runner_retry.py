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
"""A job put back to PENDING (``esi-agent-manage jobs retry``) runs again.

The stored record of a FAILED job is rewritten PENDING, unclaimed, with a
new ``received_at``; every agent's sync sees it, and the agent the hash
ring names claims it.
"""

from unittest import mock

from esi_agent.jobs import runner as runner_mod
from esi_agent.jobs import scheduler
from esi_agent.jobs import store
from esi_agent.tests import base

CONF = base.CONF

JOB = {'id': 'create:heat_worker:network:n1:1:abcde', 'action': 'create',
       'handler': 'heat_worker', 'resource_type': 'network',
       'resource_id': 'n1', 'version': 1, 'params': [], 'dependency': [],
       'on_failure': 'fail', 'resource_input': {}}


class TestRetriedJob(base.TestCase):

    def setUp(self):
        super().setUp()
        self.store = mock.Mock(owner='agent-1')
        self.runner = runner_mod.JobRunner(CONF, self.store, mock.Mock(),
                                           mock.Mock(), {})
        self.addCleanup(self.runner.stop)
        self.entry = scheduler.JobEntry(JOB, 7, 1000.0,
                                        status=store.FAILED, error='boom')
        self.runner.index.add(self.entry)

    def stored(self, status, received_at):
        return store.StoredJob(store.job_record(JOB, status, received_at), 7)

    def test_put_back_job_is_claimed_and_pending_again(self):
        self.store.snapshot.return_value = (
            [self.stored(store.PENDING, 2000.0)], {}, 9)
        self.store.claim.return_value = True
        self.runner.sync()
        self.assertEqual((store.PENDING, '', 2000.0, True),
                         (self.entry.status, self.entry.error,
                          self.entry.received_at, self.entry.mine))
        self.store.claim.assert_called_once_with(JOB['id'], previous=None)
        self.assertEqual([self.entry], self.runner.index.waiting())

    def test_another_agent_claimed_it_first(self):
        self.store.snapshot.return_value = (
            [self.stored(store.PENDING, 2000.0)], {JOB['id']: 'agent-2'}, 9)
        self.runner.sync()
        self.assertEqual((store.PENDING, False),
                         (self.entry.status, self.entry.mine))
        self.store.claim.assert_not_called()

    def test_stale_pending_read_does_not_undo_a_completion(self):
        # The sync read the job before this agent finished it: same
        # received_at, so not a retry.
        self.entry.status, self.entry.mine = store.COMPLETED, True
        self.store.snapshot.return_value = (
            [self.stored(store.PENDING, 1000.0)], {JOB['id']: 'agent-1'}, 9)
        self.runner.sync()
        self.assertEqual(store.COMPLETED, self.entry.status)
        self.store.claim.assert_not_called()
