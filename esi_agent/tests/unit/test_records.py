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

"""Unit tests of :mod:`esi_agent.records` (SPEC section 5)."""

import json

from esi_agent import records
from esi_agent.tests import base

PORT_ID = 'f84496b5-dc56-4727-87b1-aa06e2471737'
TENANT = 'c583ce78843344adbe5fd20f13620274'
STACK = 'port_' + PORT_ID

HS_KEY = '/esi-worker/heat_stacks/v2.0/ports/' + PORT_ID
JS_KEY = '/esi-worker/job_state/v2.0/ports/' + PORT_ID
STATE_KEY = '/state/v2.0/ports/' + PORT_ID

OUTPUTS = [
    {'output_key': 'virtual_network',
     'output_value': [['default-domain', 'admin', 'b62eefe0']],
     'description': 'Virtual network.'},
    {'output_key': 'id', 'output_value': 'f68d0924',
     'description': 'A unique id for the virtual machine interface.'},
    {'output_key': 'label', 'output_value': 'caf\u00e9 \u20ac',
     'description': 'Non-ASCII text.'},
]


def make_job(action='create', version=3, params=None, resource_input=None):
    job = {'id': '%s:heat_worker:port:%s:%d:abcde' % (action, PORT_ID,
                                                      version),
           'action': action, 'handler': 'heat_worker',
           'resource_type': 'port', 'resource_id': PORT_ID,
           'version': version,
           'params': [{'param': 'tenant_id', 'type': 'value',
                       'value': TENANT, 'resources': []}]
           if params is None else params,
           'resource_input': ({'tenant_id': 'input-tenant'}
                              if resource_input is None
                              else resource_input)}
    return job


class TestKeys(base.TestCase):

    def test_plural(self):
        self.assertEqual('ports', records.plural('port'))
        self.assertEqual('ese_devices', records.plural('ese_device'))

    def test_resource_path(self):
        self.assertEqual('ports/' + PORT_ID,
                         records.resource_path('port', PORT_ID))

    def test_heat_stacks_key(self):
        self.assertEqual(HS_KEY, records.heat_stacks_key('port', PORT_ID))

    def test_job_state_key(self):
        self.assertEqual(JS_KEY, records.job_state_key('port', PORT_ID))

    def test_state_key(self):
        self.assertEqual(STATE_KEY, records.state_key('port', PORT_ID))

    def test_is_delete(self):
        self.assertTrue(records.is_delete('delete'))
        self.assertTrue(records.is_delete('logical_delete'))
        self.assertFalse(records.is_delete('create'))
        self.assertFalse(records.is_delete('modify'))
        self.assertFalse(records.is_delete(None))


class TestWorkerState(base.TestCase):

    CASES = [
        ('create', True, 'CREATE_COMPLETED'),
        ('create', False, 'CREATE_FAILED'),
        ('modify', True, 'MODIFY_COMPLETED'),
        ('modify', False, 'MODIFY_FAILED'),
        ('logical_delete', True, 'DELETE_COMPLETED'),
        ('logical_delete', False, 'DELETE_FAILED'),
        ('delete', True, 'DELETE_COMPLETED'),
        ('delete', False, 'DELETE_FAILED'),
    ]

    def test_every_action(self):
        for action, succeeded, expected in self.CASES:
            self.assertEqual(expected,
                             records.worker_state(action, succeeded),
                             '%s succeeded=%s' % (action, succeeded))

    def test_unknown_action_is_create(self):
        self.assertEqual('CREATE_FAILED',
                         records.worker_state('destroy', False))

    def test_non_string_action_is_create(self):
        # A rejected job may have any JSON value as its action, including
        # unhashable ones.
        for action in (None, 3, ['delete'], {'a': 1}):
            self.assertEqual('CREATE_FAILED',
                             records.worker_state(action, False),
                             repr(action))


class TestTenantId(base.TestCase):

    def test_param_wins_over_resource_input(self):
        self.assertEqual(TENANT, records.tenant_id(make_job()))

    def test_param_anywhere_in_params(self):
        job = make_job(params=[
            {'param': 'name', 'type': 'value', 'value': 'x'},
            {'param': 'tenant_id', 'type': 'value', 'value': 'second'}])
        self.assertEqual('second', records.tenant_id(job))

    def test_resource_input_without_param(self):
        job = make_job(params=[{'param': 'name', 'type': 'value',
                                'value': 'x'}])
        self.assertEqual('input-tenant', records.tenant_id(job))

    def test_none_when_neither(self):
        self.assertIsNone(records.tenant_id(make_job(params=[],
                                                     resource_input={})))

    def test_tolerates_malformed_job(self):
        job = {'params': ['not a dict', None],
               'resource_input': 'not a dict'}
        self.assertIsNone(records.tenant_id(job))
        self.assertIsNone(records.tenant_id({}))


class TestStackRecords(base.TestCase):

    def _records(self, action, status, reason, outputs=OUTPUTS, **kw):
        return records.stack_records(make_job(action, **kw), STACK, status,
                                     reason, outputs)

    def assertStateHeatOutputs(self, expected, state_record):
        text = state_record['state']['heat_outputs']
        self.assertIsInstance(text, str)
        self.assertEqual(expected, json.loads(text))

    def test_create_complete(self):
        recs = self._records('create', 'CREATE_COMPLETE',
                             'Stack CREATE completed successfully')
        self.assertEqual({HS_KEY, JS_KEY, STATE_KEY}, set(recs))
        self.assertEqual({'stack_id': STACK,
                          'tenant_id': TENANT,
                          'stack_status': 'CREATE_COMPLETE',
                          'output': OUTPUTS,
                          'status_reason':
                              'Stack CREATE completed successfully',
                          'id': 'port:' + PORT_ID}, recs[HS_KEY])
        self.assertEqual({'heat_outputs': OUTPUTS,
                          'orchestration_state': 'CREATE_COMPLETE'},
                         recs[JS_KEY])
        state = recs[STATE_KEY]
        self.assertEqual({'state', 'version', 'error'}, set(state))
        self.assertEqual(3, state['version'])
        self.assertEqual('', state['error'])
        self.assertEqual('CREATE_COMPLETED', state['state']['worker_state'])
        self.assertEqual('CREATE_COMPLETE',
                         state['state']['orchestration_state'])
        self.assertStateHeatOutputs(OUTPUTS, state)

    def test_records_are_json_serialisable(self):
        recs = self._records('create', 'CREATE_COMPLETE', 'ok')
        self.assertEqual(recs, json.loads(json.dumps(recs)))

    def test_update_complete(self):
        recs = self._records('modify', 'UPDATE_COMPLETE',
                             'Stack UPDATE completed successfully',
                             version=7)
        self.assertEqual('UPDATE_COMPLETE', recs[HS_KEY]['stack_status'])
        self.assertEqual(STACK, recs[HS_KEY]['stack_id'])
        self.assertEqual('UPDATE_COMPLETE',
                         recs[JS_KEY]['orchestration_state'])
        state = recs[STATE_KEY]
        self.assertEqual('MODIFY_COMPLETED', state['state']['worker_state'])
        self.assertEqual(7, state['version'])
        self.assertEqual('', state['error'])
        self.assertStateHeatOutputs(OUTPUTS, state)

    def test_create_failed(self):
        reason = 'Resource CREATE failed: BadRequest: quota exceeded'
        recs = self._records('create', 'CREATE_FAILED', reason, outputs=[])
        self.assertEqual('CREATE_FAILED', recs[HS_KEY]['stack_status'])
        self.assertEqual(reason, recs[HS_KEY]['status_reason'])
        self.assertEqual(STACK, recs[HS_KEY]['stack_id'])
        self.assertEqual('CREATE_FAILED',
                         recs[STATE_KEY]['state']['worker_state'])
        self.assertEqual('CREATE_FAILED',
                         recs[STATE_KEY]['state']['orchestration_state'])
        self.assertEqual(reason, recs[STATE_KEY]['error'])

    def test_update_failed(self):
        reason = 'Resource UPDATE failed: timed out'
        recs = self._records('modify', 'UPDATE_FAILED', reason)
        self.assertEqual('MODIFY_FAILED',
                         recs[STATE_KEY]['state']['worker_state'])
        self.assertEqual(reason, recs[STATE_KEY]['error'])
        self.assertEqual(reason, recs[HS_KEY]['status_reason'])

    def test_failed_without_reason_uses_status(self):
        recs = self._records('create', 'CREATE_FAILED', None, outputs=None)
        self.assertEqual('CREATE_FAILED', recs[STATE_KEY]['error'])
        self.assertEqual('', recs[HS_KEY]['status_reason'])
        self.assertEqual([], recs[HS_KEY]['output'])
        self.assertStateHeatOutputs([], recs[STATE_KEY])

    def test_delete_complete(self):
        for action in ('delete', 'logical_delete'):
            recs = self._records(action, 'DELETE_COMPLETE',
                                 'Stack DELETE completed successfully',
                                 version=4)
            self.assertEqual({'stack_id': '',
                              'tenant_id': TENANT,
                              'stack_status': 'DELETE_COMPLETE',
                              'output': [],
                              'status_reason': '',
                              'id': 'port:' + PORT_ID}, recs[HS_KEY],
                             action)
            self.assertEqual({'heat_outputs': [],
                              'orchestration_state': 'DELETE_COMPLETE'},
                             recs[JS_KEY], action)
            self.assertEqual({'state': {'worker_state': 'DELETE_COMPLETED',
                                        'heat_outputs': '[]',
                                        'orchestration_state':
                                            'DELETE_COMPLETE'},
                              'version': 4, 'error': ''},
                             recs[STATE_KEY], action)

    def test_delete_failed_keeps_stack_and_reason(self):
        reason = 'Resource DELETE failed: Conflict'
        recs = self._records('delete', 'DELETE_FAILED', reason, outputs=[])
        self.assertEqual(STACK, recs[HS_KEY]['stack_id'])
        self.assertEqual(reason, recs[HS_KEY]['status_reason'])
        self.assertEqual('DELETE_FAILED',
                         recs[STATE_KEY]['state']['worker_state'])
        self.assertEqual(reason, recs[STATE_KEY]['error'])

    def test_tenant_from_resource_input(self):
        recs = records.stack_records(make_job(params=[]), STACK,
                                     'CREATE_COMPLETE', '', [])
        self.assertEqual('input-tenant', recs[HS_KEY]['tenant_id'])

    def test_heat_outputs_string_matches_the_list(self):
        recs = self._records('create', 'CREATE_COMPLETE', '')
        decoded = json.loads(recs[STATE_KEY]['state']['heat_outputs'])
        self.assertEqual(recs[JS_KEY]['heat_outputs'], decoded)
        self.assertEqual(recs[HS_KEY]['output'], decoded)

    def test_outputs_list_is_a_copy(self):
        outputs = list(OUTPUTS)
        recs = self._records('create', 'CREATE_COMPLETE', '',
                             outputs=outputs)
        outputs.append({'output_key': 'late'})
        self.assertEqual(OUTPUTS, recs[HS_KEY]['output'])


class TestReadCompleteRecord(base.TestCase):

    def test_record(self):
        self.assertEqual(
            {STATE_KEY: {'state': {'worker_state': 'READ_COMPLETE'},
                         'version': 5, 'error': ''}},
            records.read_complete_record(make_job(version=5)))


class TestRejectedRecord(base.TestCase):

    def test_good_version(self):
        self.assertEqual(
            {STATE_KEY: {'state': {'worker_state': 'MODIFY_FAILED'},
                         'version': 2,
                         'error': 'Invalid job: version: must be >= 1'}},
            records.rejected_record(
                make_job('modify', version=2),
                ValueError('Invalid job: version: must be >= 1')))

    def test_delete_action(self):
        rec = records.rejected_record(make_job('logical_delete'), 'boom')
        self.assertEqual('DELETE_FAILED',
                         rec[STATE_KEY]['state']['worker_state'])
        self.assertEqual('boom', rec[STATE_KEY]['error'])

    def test_bad_versions_become_none(self):
        for version in (True, False, '3', 3.0, None, [3]):
            job = make_job()
            job['version'] = version
            rec = records.rejected_record(job, 'bad')
            self.assertIsNone(rec[STATE_KEY]['version'], repr(version))

    def test_missing_version(self):
        job = make_job()
        del job['version']
        self.assertIsNone(
            records.rejected_record(job, 'bad')[STATE_KEY]['version'])

    def test_non_string_action(self):
        for action in (None, 42, ['delete']):
            job = make_job()
            job['action'] = action
            rec = records.rejected_record(job, 'bad action')
            self.assertEqual('CREATE_FAILED',
                             rec[STATE_KEY]['state']['worker_state'],
                             repr(action))

    def test_missing_action(self):
        job = make_job()
        del job['action']
        rec = records.rejected_record(job, 'x')
        self.assertEqual('CREATE_FAILED',
                         rec[STATE_KEY]['state']['worker_state'])
