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
"""Jobs finished by the notifications of a real Heat.

The Heat of tools/services/heat sends its notifications (messagingv2) on
exchange ``heat``, topic ``notifications`` of the broker the tests use,
shared with the agents of other test processes. The agent listens with a
pool (a queue) of its own, so that it sees every notification rather than
a share of them; those of the stacks of other tests are ignored. The
periodic reconcile is pushed an hour away: a job that finishes did so from
its notification.
"""

import os
import shutil
import uuid

import fixtures

from esi_agent import records
from esi_agent.tests.functional import jobs
from esi_agent.tests.functional_heat import base
from esi_agent.tests.functional_heat import test_heat
from esi_agent.tests import services

NO_RECONCILE = 3600


class TestHeatNotifications(base.HeatTestCase):

    def setUp(self):
        super().setUp()
        template_dir = self.useFixture(fixtures.TempDir()).path
        jobs.write_templates(template_dir,
                             failing=test_heat.FAILING_TEMPLATE)
        shutil.copy(os.path.join(base.TEMPLATE_DIR, 'network.yaml'),
                    template_dir)
        self.config(template_dir=template_dir, mapping_file=None,
                    group='templates')
        pool = 'esi-agent-test-%s' % uuid.uuid4().hex[:12]
        self.config(reconcile_interval=NO_RECONCILE, group='agent')
        self.config(notifications_enabled=True, notifications_pool=pool,
                    group='heat')
        # Runs after the agent stops: a pool's queue outlives its consumer.
        self.addCleanup(services.delete_queues, [pool])
        self.agent = self.start_agent()

    def state(self, job):
        return self.etcd.get_json(records.state_key(job['resource_type'],
                                                    job['resource_id']))

    def test_jobs_finish_from_heats_notifications(self):
        create = test_heat.network_job()
        modify = test_heat.network_job(create['resource_id'], 2, 'modify',
                                       admin_state_up=False)
        self.cast(create)
        self.assertEqual({create['id']: 'COMPLETED'},
                         self.wait_final([create['id']], timeout=60))
        self.cast(modify)
        self.assertEqual({modify['id']: 'COMPLETED'},
                         self.wait_final([modify['id']], timeout=60))

        self.assertEqual(2, self.agent.notifications.endpoint.stats['taken'])
        state = self.state(modify)
        self.assertEqual('MODIFY_COMPLETED', state['state']['worker_state'])
        self.assertEqual('UPDATE_COMPLETE',
                         state['state']['orchestration_state'])
        outputs = self.etcd.get_json(records.job_state_key(
            'network', create['resource_id']))['heat_outputs']
        self.assertIn(create['resource_id'],
                      [o['output_value'] for o in outputs])

    def test_error_notification_fails_the_job(self):
        # Heat sends orchestration.stack.create.error at ERROR priority.
        job = jobs.job('failing')
        self.cast(job)

        self.assertEqual({job['id']: 'FAILED'},
                         self.wait_final([job['id']], timeout=60))
        self.assertEqual(1, self.agent.notifications.endpoint.stats['taken'])
        state = self.state(job)
        self.assertEqual('CREATE_FAILED', state['state']['worker_state'])
        self.assertIn('Test Resource failed', state['error'])
