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

"""Unit tests of :mod:`esi_agent.jobs.intake`.

The intake runs with an in-memory job store, which encodes what it stores
the way the real one does, and a runner that only records what it is given.
"""

import copy
import logging

import fixtures

from esi_agent import etcd
from esi_agent import exception
from esi_agent.jobs import intake
from esi_agent.jobs import schema
from esi_agent.jobs import store
from esi_agent.tests import base

CONF = base.CONF

PORT_ID = 'f84496b5-dc56-4727-87b1-aa06e2471737'
NETWORK_ID = 'b62eefe0-0872-478d-adfe-1a606320f0e7'
TENANT = 'c583ce78843344adbe5fd20f13620274'
SECRET = 'S3cr3t-pa55w0rd-9f1c'
STATE_KEY = '/state/v2.0/ports/' + PORT_ID


def value(name, val):
    return {'param': name, 'type': 'value', 'value': val, 'resources': []}


def valid_job(version=1, action='create'):
    return {
        'id': '%s:heat_worker:port:%s:%d:3xe01' % (action, PORT_ID, version),
        'action': action,
        'handler': 'heat_worker',
        'resource_type': 'port',
        'resource_id': PORT_ID,
        'version': version,
        'params': [
            value('tenant_id', TENANT),
            value('name', 'port-1'),
            value('password', SECRET),
            {'param': 'network', 'type': 'output_key', 'resources': [],
             'value': {'output_key': 'id', 'resource_type': 'network',
                       'resource_id': NETWORK_ID}},
        ],
        'dependency': [],
        'on_failure': 'fail',
        'resource_input': {'tenant_id': TENANT, 'name': 'port-1',
                           'admin_pass': SECRET},
        'job_name': 'create port',
        'is_first': True,
        'is_last': True,
    }


class FakeStore(object):
    """An in-memory JobStore: ``intake`` and ``finish``."""

    def __init__(self):
        self.jobs = {}
        self.finished = []
        self.revision = 100
        self.fail_finish = None

    def intake(self, job, received_at):
        if job['id'] in self.jobs:
            return None, store.StoredJob(self.jobs[job['id']], 1)
        # Encoded as the real store encodes it, so that what etcd cannot
        # hold fails here as it would there.
        etcd.dumps(store.job_record(job, store.PENDING, received_at))
        self.revision += 1
        self.jobs[job['id']] = store.job_record(job, store.PENDING,
                                                received_at)
        return self.revision, None

    def finish(self, job, resource_records, status, received_at, error='',
               claimed=True):
        self.claimed = claimed
        if self.fail_finish is not None:
            raise self.fail_finish
        etcd.dumps(resource_records)
        self.finished.append({'job': job, 'records': resource_records,
                              'status': status, 'received_at': received_at,
                              'error': error})
        return True


class FakeRunner(object):

    def __init__(self):
        self.entries = []

    def add(self, entry):
        self.entries.append(entry)


class IntakeTestCase(base.TestCase):

    def setUp(self):
        super().setUp()
        self.log = self.useFixture(fixtures.FakeLogger(
            level=logging.DEBUG, format='%(levelname)s %(name)s %(message)s'))
        self.store = FakeStore()
        self.runner = FakeRunner()
        self.intake = intake.Intake(CONF, self.store, self.runner)

    def assertStats(self, **expected):
        stats = dict.fromkeys(('accepted', 'duplicates', 'rejected',
                               'dropped'), 0)
        stats.update(expected)
        self.assertEqual(stats, self.intake.stats)

    def assertRejected(self, job, *error_parts):
        """The job got a FAILED state record; returns its error."""
        self.assertIsNone(self.intake.accept(job))
        self.assertStats(rejected=1)
        self.assertEqual([], self.runner.entries)
        self.assertEqual({}, self.store.jobs)
        [finished] = self.store.finished
        self.assertEqual(store.FAILED, finished['status'])
        self.assertEqual([STATE_KEY], list(finished['records']))
        record = finished['records'][STATE_KEY]
        self.assertEqual(finished['error'], record['error'])
        for part in error_parts:
            self.assertIn(part, record['error'])
        # An operator sees it without debug logging.
        self.assertRegex(self.log.output,
                         r'(WARNING|ERROR) esi_agent\.jobs\.intake Job .* '
                         r'rejected')
        return record

    def assertDropped(self, job):
        self.assertIsNone(self.intake.accept(job))
        self.assertStats(dropped=1)
        self.assertEqual([], self.runner.entries)
        self.assertEqual([], self.store.finished)
        self.assertEqual({}, self.store.jobs)
        self.assertRegex(self.log.output,
                         r'(WARNING|ERROR) esi_agent\.jobs\.intake Dropped '
                         r'a job that names no usable resource')


class TestAccept(IntakeTestCase):

    def test_valid_job_stored_and_handed_over(self):
        job = valid_job()

        entry = self.intake.accept(copy.deepcopy(job))

        self.assertIsNotNone(entry)
        self.assertEqual([job['id']], list(self.store.jobs))
        stored = self.store.jobs[job['id']]
        self.assertEqual(job, stored['job'])
        self.assertEqual(store.PENDING, stored['status'])
        self.assertEqual([entry], self.runner.entries)
        self.assertEqual(job['id'], entry.id)
        self.assertEqual(job, entry.job)
        self.assertEqual(('port', PORT_ID), entry.resource)
        self.assertEqual(1, entry.version)
        self.assertEqual(self.store.revision, entry.arrival)
        self.assertEqual(stored['received_at'], entry.received_at)
        self.assertEqual([('network', NETWORK_ID)], entry.refs)
        self.assertEqual([], self.store.finished)
        self.assertStats(accepted=1)
        self.assertIn(job['id'], self.log.output)

    def test_stored_before_handed_over(self):
        seen = []
        self.runner.add = lambda entry: seen.append(
            entry.id in self.store.jobs)

        self.intake.accept(valid_job())

        self.assertEqual([True], seen)

    def test_duplicate_not_handed_over(self):
        job = valid_job()
        first = self.intake.accept(job)

        self.assertIsNone(self.intake.accept(copy.deepcopy(job)))

        self.assertEqual([first], self.runner.entries)
        self.assertStats(accepted=1, duplicates=1)
        self.assertIn('received before', self.log.output)

    def test_new_versions_accepted(self):
        self.intake.accept(valid_job(1))
        self.intake.accept(valid_job(2, 'modify'))

        self.assertEqual([1, 2], [e.version for e in self.runner.entries])
        self.assertStats(accepted=2)

    def test_store_failure_propagates(self):
        # etcd down: the job was not taken; the manager logs it.
        def down(job, received_at):
            raise exception.EtcdError(reason='etcd is down')
        self.store.intake = down

        self.assertRaises(exception.EtcdError, self.intake.accept,
                          valid_job())
        self.assertEqual([], self.runner.entries)


class TestReject(IntakeTestCase):

    def test_invalid_field_named(self):
        job = valid_job(action='modify')
        job['handler'] = 'other_worker'

        record = self.assertRejected(job, 'handler', "'heat_worker'")

        self.assertEqual({'state': {'worker_state': 'MODIFY_FAILED'},
                          'version': 1, 'error': record['error']}, record)
        self.assertTrue(record['error'].startswith('Invalid job: '),
                        record['error'])
        stored = self.store.finished[0]['job']
        self.assertEqual(job, stored['as_received'])
        # What every agent loads is well-formed.
        self.assertEqual(
            {'id': job['id'], 'action': 'modify', 'handler': 'heat_worker',
             'resource_type': 'port', 'resource_id': PORT_ID, 'version': 1,
             'params': [], 'dependency': [], 'on_failure': 'fail'},
            {k: v for k, v in stored.items() if k != 'as_received'})

    def test_invalid_param_named(self):
        job = valid_job()
        job['params'][1]['type'] = 'lookup'

        self.assertRejected(job, 'params[1].type')

    def test_missing_field_named(self):
        job = valid_job()
        del job['params']

        record = self.assertRejected(job, "'params'")

        self.assertEqual('CREATE_FAILED', record['state']['worker_state'])

    def test_bad_version_not_recorded(self):
        job = valid_job()
        job['version'] = 'one'

        record = self.assertRejected(job, 'version')

        self.assertIsNone(record['version'])

    def test_bad_id_not_used_as_key(self):
        job = valid_job()
        job['id'] = {'not': 'a string'}

        self.assertRejected(job, 'id')

        self.assertIsNone(self.store.finished[0]['job']['id'])

    def test_record_failure_logged(self):
        self.store.fail_finish = exception.EtcdError(reason='etcd is down')
        job = valid_job()
        job['action'] = 'explode'

        self.assertIsNone(self.intake.accept(job))

        self.assertStats(rejected=1)
        self.assertIn('Could not record the rejection', self.log.output)
        self.assertIn('etcd is down', self.log.output)

    def test_oversize_job(self):
        self.config(max_job_size=1024, group='agent')
        job = valid_job()
        job['resource_input']['description'] = 'x' * 2000
        size = len(etcd.dumps(job))

        self.assertRejected(
            job, 'job is %d bytes' % size, 'max_job_size (1024)')

    def test_job_at_size_limit_accepted(self):
        self.config(max_job_size=1024, group='agent')
        job = valid_job()
        job['resource_input']['description'] = ''
        job['resource_input']['description'] = 'x' * (
            1024 - len(etcd.dumps(job)))
        self.assertEqual(1024, len(etcd.dumps(job)))

        self.assertIsNotNone(self.intake.accept(job))

    def test_size_counts_stored_bytes(self):
        # The size is that of the UTF-8 JSON that etcd stores.
        self.config(max_job_size=1024, group='agent')
        job = valid_job()
        job['resource_input']['description'] = ''
        job['resource_input']['description'] = '\u00e9' * (
            (1024 - len(etcd.dumps(job))) // 2)
        self.assertLessEqual(len(etcd.dumps(job)), 1024)

        self.assertIsNotNone(self.intake.accept(job))

    def test_not_json_serialisable(self):
        job = valid_job()
        job['resource_input']['security_groups'] = {'default', 'web'}

        self.assertRejected(job, 'JSON')

    def test_not_json_serialisable_object(self):
        job = valid_job()
        job['params'][1]['value'] = object()

        self.assertRejected(job, 'JSON')

    def test_lone_surrogate(self):
        job = valid_job()
        job['params'][1]['value'] = 'port\ud800'

        self.assertRejected(job, 'params[1].value: text with a lone '
                                 'surrogate (U+D800 at index 4)')
        stored = self.store.finished[0]['job']
        schema.encode(stored)
        self.assertEqual('port?', stored['as_received']['params'][1]['value'])

    def test_not_a_number(self):
        job = valid_job()
        job['resource_input']['mtu'] = float('nan')

        self.assertRejected(job, 'resource_input.mtu: NaN is not a JSON '
                                 'number')
        schema.encode(self.store.finished[0]['job'])

    def test_oversize_job_stored_as_its_scalar_fields(self):
        self.config(max_job_size=1024, group='agent')
        job = valid_job()
        job['resource_input']['description'] = 'x' * 2000

        self.assertRejected(job, 'max_job_size (1024)')
        self.assertEqual(
            {'id', 'action', 'handler', 'resource_type', 'resource_id',
             'version', 'on_failure', 'job_name', 'is_first', 'is_last'},
            set(self.store.finished[0]['job']['as_received']))

    def test_stored_job_is_well_formed(self):
        # Every agent loads it: its version, params and dependency must be
        # usable whatever was received.
        job = valid_job()
        job.update(version='2', params={'a': 1}, dependency='x')

        self.assertRejected(job, 'version', 'params', 'dependency')
        stored = self.store.finished[0]['job']
        self.assertEqual((0, [], []), (stored['version'], stored['params'],
                                       stored['dependency']))
        self.assertEqual(job, stored['as_received'])


class TestDrop(IntakeTestCase):

    def test_not_a_dict(self):
        for job in ('a job', None, 42):
            self.intake = intake.Intake(CONF, self.store, self.runner)
            self.assertDropped(job)

    def test_list(self):
        self.assertDropped([valid_job()])

    def test_missing_resource_type(self):
        job = valid_job()
        del job['resource_type']
        self.assertDropped(job)
        self.assertIn(job['id'], self.log.output)

    def test_resource_id_with_slash(self):
        job = valid_job()
        job['resource_id'] = PORT_ID + '/../../jobs'
        self.assertDropped(job)

    def test_resource_type_not_a_string(self):
        job = valid_job()
        job['resource_type'] = ['port']
        self.assertDropped(job)

    def test_long_id_truncated_in_log(self):
        job = valid_job()
        del job['resource_id']
        job['id'] = 'j' * 100000
        self.assertDropped(job)
        self.assertNotIn('j' * 129, self.log.output)


class TestSecrets(IntakeTestCase):

    def assertNoSecret(self):
        self.assertNotIn(SECRET, self.log.output)
        for finished in self.store.finished:
            self.assertNotIn(SECRET, etcd.dumps(
                finished['records']).decode('utf-8'))
            self.assertNotIn(SECRET, finished['error'])

    def test_valid_job(self):
        self.assertIsNotNone(self.intake.accept(valid_job()))
        self.assertIn('accepted', self.log.output)
        self.assertNoSecret()

    def test_invalid_secret_param(self):
        job = valid_job()
        job['params'][2]['type'] = 'password'
        self.assertRejected(job, 'params[2].type')
        self.assertNoSecret()

    def test_secret_where_a_string_is_due(self):
        job = valid_job()
        job['job_name'] = {'password': SECRET}
        job['handler'] = SECRET
        self.assertRejected(job, 'job_name', 'handler')
        self.assertNoSecret()

    def test_oversize_secret(self):
        self.config(max_job_size=1024, group='agent')
        job = valid_job()
        job['params'][2]['value'] = SECRET * 100
        self.assertRejected(job, 'max_job_size')
        self.assertNoSecret()

    def test_dropped(self):
        job = valid_job()
        job['resource_id'] = SECRET + '/x'
        job['id'] = 'create:heat_worker:port:x:1:y'
        self.assertDropped(job)
        self.assertNoSecret()

    def test_duplicate(self):
        self.intake.accept(valid_job())
        self.intake.accept(valid_job())
        self.assertStats(accepted=1, duplicates=1)
        self.assertNoSecret()
