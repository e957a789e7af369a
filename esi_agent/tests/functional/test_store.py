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
"""JobStore transactions against a real etcd."""

from esi_agent import etcd
from esi_agent.jobs import store
from esi_agent import records
from esi_agent.tests import base
from esi_agent.tests.functional import jobs
from esi_agent.tests import services


class TestJobStore(base.TestCase):

    def setUp(self):
        super().setUp()
        self.server = services.shared_etcd()
        self.server.wipe()
        self.config(host='127.0.0.1', port=self.server.port, group='etcd')
        self.etcd = etcd.EtcdClient(base.CONF)
        self.store = store.JobStore(self.etcd)

    def _finish(self, job, status='CREATE_COMPLETE'):
        recs = records.stack_records(
            job, 'network_' + job['resource_id'], status, 'done',
            [{'output_key': 'id', 'output_value': job['id'],
              'description': 'd'}])
        return self.store.finish(job, recs, store.COMPLETED, 1.0)

    def test_intake_once(self):
        job = jobs.network()
        arrival, seen = self.store.intake(job, 1.0)
        self.assertIsNone(seen)
        self.assertGreater(arrival, 0)
        again, seen = self.store.intake(job, 2.0)
        self.assertIsNone(again)
        self.assertEqual(store.PENDING, seen.status)
        self.assertEqual(arrival, seen.arrival)
        self.assertEqual(2, self.etcd.txn_count)

    def test_three_records_and_job_share_one_revision(self):
        job = jobs.network()
        self.store.intake(job, 1.0)
        self.assertTrue(self._finish(job))
        job_kv = self.etcd.get(store.job_key(job['id']))
        self.assertEqual(store.COMPLETED, job_kv.json()['status'])
        for key in (records.heat_stacks_key('network', job['resource_id']),
                    records.job_state_key('network', job['resource_id']),
                    records.state_key('network', job['resource_id'])):
            self.assertEqual(job_kv.mod_revision,
                             self.etcd.get(key).mod_revision, key)

    def test_lower_version_never_overwrites_higher(self):
        rid = 'b5f0e8a4-7a1e-4d1e-9c55-0d7b8a3f0101'
        v3 = jobs.network(rid=rid, version=3, action='modify')
        v2 = jobs.network(rid=rid, version=2, action='modify')
        self.assertTrue(self._finish(v3))
        self.assertFalse(self._finish(v2))
        state = self.etcd.get_json(records.state_key('network', rid))
        self.assertEqual(3, state['version'])
        self.assertEqual(store.SUPERSEDED, self.etcd.get_json(
            store.job_key(v2['id']))['status'])
        # The same version again (a retried job) is written.
        v3_again = jobs.network(rid=rid, version=3, action='modify')
        self.assertTrue(self._finish(v3_again))

    def test_records_of_the_old_worker_are_respected(self):
        rid = 'b5f0e8a4-7a1e-4d1e-9c55-0d7b8a3f0102'
        self.etcd.put(records.state_key('network', rid),
                      {'state': {'worker_state': 'MODIFY_COMPLETED'},
                       'version': 5, 'error': ''})
        self.assertFalse(self._finish(jobs.network(rid=rid, version=4)))
        self.assertTrue(self._finish(jobs.network(rid=rid, version=6)))
        state = self.etcd.get_json(records.state_key('network', rid))
        self.assertEqual(6, state['version'])

    def test_unicode_round_trip(self):
        job = jobs.network(
            params=[jobs.value('description', 'caf\u00e9 \u20ac')])
        self.store.intake(job, 1.0)
        [stored] = self.store.load_jobs()
        self.assertEqual(job, stored.job)

    def test_load_jobs_pages_in_arrival_order(self):
        self.etcd.PAGE_SIZE = 3
        made = [jobs.network() for _ in range(8)]
        for job in made:
            self.store.intake(job, 1.0)
        self.assertEqual([j['id'] for j in made],
                         [s.job['id'] for s in self.store.load_jobs()])

    def test_outputs(self):
        job = jobs.network()
        self.assertIsNone(self.store.outputs('network', job['resource_id']))
        self.assertFalse(self.store.has_records('network',
                                                job['resource_id']))
        self._finish(job)
        self.assertEqual('id', self.store.outputs(
            'network', job['resource_id'])[0]['output_key'])
        self.assertTrue(self.store.has_records('network',
                                               job['resource_id']))
