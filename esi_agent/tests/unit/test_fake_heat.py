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
"""Tests of the Heat API stand-in, driven by the real python-heatclient."""

import os
import signal
import subprocess
import sys
import threading
import time
import uuid

from heatclient import client as heat_client
from heatclient import exc as heat_exc
from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import noauth
from keystoneauth1 import session
import oslo_messaging as messaging
import requests

from esi_agent.tests import base
from esi_agent.tests.fakes import heat_api

TEMPLATE = """
heat_template_version: 2021-04-16
description: A port for the esi-agent tests
parameters:
  network:
    type: string
  vlan:
    type: number
    default: 100
  secret:
    type: string
    hidden: true
    default: s3cr3t
  profile:
    type: json
    default: {}
resources: {}
outputs:
  port_id:
    description: The port
    value: {get_resource: port}
  mac_address:
    value: {get_attr: [port, mac_address]}
"""

TEMPLATE_V2 = """
heat_template_version: 2021-04-16
parameters:
  network:
    type: string
resources: {}
outputs:
  trunk_id:
    description: The trunk
    value: {get_resource: trunk}
"""

TAGS = 'esi-agent,esi-job-abc'
REPO_ROOT = os.path.abspath(
    os.path.join(os.path.dirname(__file__), '..', '..', '..'))


def wait_for(predicate, timeout=10.0, interval=0.01):
    """Poll ``predicate`` until it returns something true; return that.

    :raises AssertionError: if ``timeout`` seconds pass first.
    """
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError('Condition %r still false after %s s'
                                 % (predicate, timeout))
        time.sleep(interval)


def by_name_prefix(**outcomes):
    """An outcome policy picking the Outcome by stack name prefix."""
    def policy(operation):
        for prefix, outcome in outcomes.items():
            if operation.stack_name.startswith(prefix):
                return outcome
        return heat_api.Outcome()
    return policy


NEVER = heat_api.Outcome(delay=float('inf'))


class FakeHeatTestCase(base.TestCase):

    def start_fake(self, **kwargs):
        self.fake = self.useFixture(heat_api.FakeHeat(**kwargs))
        self.hc = self.client()
        return self.fake

    def client(self):
        sess = session.Session(
            auth=noauth.NoAuth(endpoint=self.fake.endpoint))
        self.addCleanup(sess.session.close)
        return heat_client.Client('1', session=sess,
                                  endpoint_override=self.fake.endpoint)

    def create(self, name, template=TEMPLATE, parameters=None, **kwargs):
        kwargs.setdefault('timeout_mins', 6)
        kwargs.setdefault('disable_rollback', True)
        kwargs.setdefault('tags', TAGS)
        if parameters is None:
            parameters = {'network': 'net-1'}
        body = self.hc.stacks.create(stack_name=name, template=template,
                                     parameters=parameters, **kwargs)
        return body['stack']['id']

    def wait_status(self, identifier, status):
        """Wait until the stack has ``status``; return it."""
        def reached():
            stack = self.hc.stacks.get(identifier)
            return stack if stack.stack_status == status else None
        return wait_for(reached)

    def list_names(self, **kwargs):
        return [stack.stack_name for stack in self.hc.stacks.list(**kwargs)]


class TestStackLifecycle(FakeHeatTestCase):

    def setUp(self):
        super().setUp()
        self.start_fake()

    def test_create_then_complete(self):
        stack_id = self.create('port_x')

        stack = self.wait_status('port_x/%s' % stack_id, 'CREATE_COMPLETE')
        self.assertEqual(stack_id, stack.id)
        self.assertEqual('port_x', stack.stack_name)
        self.assertEqual('Stack CREATE completed successfully',
                         stack.stack_status_reason)
        self.assertEqual([
            {'output_key': 'port_id', 'output_value': 'port_x/port_id',
             'description': 'The port'},
            {'output_key': 'mac_address',
             'output_value': 'port_x/mac_address',
             'description': 'No description given'},
        ], stack.outputs)
        self.assertEqual(['esi-agent', 'esi-job-abc'], stack.tags)
        self.assertEqual(6, stack.timeout_mins)
        self.assertTrue(stack.disable_rollback)
        self.assertEqual('A port for the esi-agent tests', stack.description)
        self.assertIsNotNone(stack.creation_time)
        self.assertIsNone(stack.updated_time)
        self.assertEqual(
            [{'href': '%s/stacks/port_x/%s' % (self.fake.endpoint, stack_id),
              'rel': 'self'}], stack.links)

    def test_parameters_shown_as_heat_does(self):
        stack_id = self.create(
            'port_x', parameters={'network': 'net-1', 'vlan': 42,
                                  'profile': {'a': [1]}})

        stack = self.hc.stacks.get('port_x')
        self.assertEqual({'OS::stack_id': stack_id,
                          'OS::stack_name': 'port_x',
                          'OS::project_id': heat_api.PROJECT_ID,
                          'network': 'net-1',
                          'vlan': '42',
                          'secret': '******',
                          'profile': '{"a": [1]}'}, stack.parameters)

    def test_in_progress_has_no_outputs(self):
        self.fake.outcome = lambda op: NEVER
        self.create('port_x')

        stack = self.hc.stacks.get('port_x')
        self.assertEqual('CREATE_IN_PROGRESS', stack.stack_status)
        self.assertEqual('Stack CREATE started', stack.stack_status_reason)
        self.assertEqual([], stack.outputs)

    def test_create_duplicate_conflict(self):
        self.create('port_x')

        e = self.assertRaises(heat_exc.HTTPConflict, self.create, 'port_x')
        self.assertEqual('The Stack (port_x) already exists.',
                         e.error['error']['message'])
        self.assertEqual('StackExists', e.error['error']['type'])
        self.assertEqual(2, self.fake.creates_by_name['port_x'])
        self.assertEqual(1, len(self.fake.operations))

    def test_create_bad_requests(self):
        e = self.assertRaises(heat_exc.HTTPBadRequest, self.create,
                              'port_x', parameters={'network': 'n',
                                                    'nope': 1})
        self.assertEqual('The Parameter (nope) was not defined in '
                         'template.', e.error['error']['message'])
        e = self.assertRaises(heat_exc.HTTPBadRequest, self.create,
                              'port_x', parameters={})
        self.assertEqual('The Parameter (network) was not provided.',
                         e.error['error']['message'])
        e = self.assertRaises(heat_exc.HTTPBadRequest, self.create, '1port')
        self.assertEqual('StackValidationFailed', e.error['error']['type'])
        e = self.assertRaises(heat_exc.HTTPBadRequest, self.create,
                              'port_x', template='[not, a, mapping]')
        self.assertIn('Failed to parse template', str(e))
        self.assertEqual([], self.fake.operations)

    def test_get_by_name_redirects(self):
        stack_id = self.create('port_x')

        resp = self.hc.http_client.get('/stacks/port_x', redirect=False)
        self.assertEqual(302, resp.status_code)
        self.assertEqual('%s/stacks/port_x/%s' % (self.fake.endpoint,
                                                  stack_id),
                         resp.headers['Location'])
        self.assertEqual(stack_id, self.hc.stacks.get('port_x').id)
        self.assertEqual(stack_id, self.hc.stacks.get(stack_id).id)
        self.assertEqual(3, self.fake.calls['lookup'])
        self.assertEqual(2, self.fake.calls['show'])

    def test_get_missing(self):
        e = self.assertRaises(heat_exc.HTTPNotFound,
                              self.hc.stacks.get, 'nope')
        self.assertEqual('ERROR: The Stack (nope) could not be found.',
                         str(e))
        self.assertEqual('EntityNotFound', e.error['error']['type'])
        stack_id = self.create('port_x')
        self.assertRaises(heat_exc.HTTPNotFound,
                          self.hc.stacks.get, 'other/%s' % stack_id)

    def test_error_body_format(self):
        resp = requests.get(self.fake.endpoint + '/stacks/nope/x',
                            timeout=10)
        self.assertEqual(404, resp.status_code)
        self.assertEqual('application/json', resp.headers['Content-Type'])
        self.assertEqual({
            'explanation': 'The resource could not be found.',
            'code': 404,
            'error': {'message': 'The Stack (nope) could not be found.',
                      'traceback': None,
                      'type': 'EntityNotFound'},
            'title': 'Not Found',
        }, resp.json())

    def test_update(self):
        stack_id = self.create('port_x')
        ident = 'port_x/%s' % stack_id
        self.wait_status(ident, 'CREATE_COMPLETE')

        self.hc.stacks.update(ident, template=TEMPLATE_V2,
                              parameters={'network': 'net-2'},
                              disable_rollback=True, tags='esi-agent')

        stack = self.wait_status(ident, 'UPDATE_COMPLETE')
        self.assertEqual('Stack UPDATE completed successfully',
                         stack.stack_status_reason)
        self.assertEqual([{'output_key': 'trunk_id',
                           'output_value': 'port_x/trunk_id',
                           'description': 'The trunk'}], stack.outputs)
        self.assertEqual('net-2', stack.parameters['network'])
        self.assertNotIn('vlan', stack.parameters)
        self.assertEqual(['esi-agent'], stack.tags)
        self.assertEqual(6, stack.timeout_mins)
        self.assertIsNotNone(stack.updated_time)

    def test_update_without_tags_clears_them(self):
        stack_id = self.create('port_x')
        ident = 'port_x/%s' % stack_id
        self.wait_status(ident, 'CREATE_COMPLETE')

        self.hc.stacks.update(ident, template=TEMPLATE,
                              parameters={'network': 'net-1'})

        self.assertEqual([], self.wait_status(ident, 'UPDATE_COMPLETE').tags)

    def test_patch_update_keeps_what_is_not_sent(self):
        stack_id = self.create('port_x', parameters={'network': 'net-1',
                                                     'vlan': 7})
        ident = 'port_x/%s' % stack_id
        self.wait_status(ident, 'CREATE_COMPLETE')

        self.hc.stacks.update(ident, existing=True,
                              parameters={'network': 'net-2'})

        stack = self.wait_status(ident, 'UPDATE_COMPLETE')
        self.assertEqual('net-2', stack.parameters['network'])
        self.assertEqual('7', stack.parameters['vlan'])
        self.assertEqual(['esi-agent', 'esi-job-abc'], stack.tags)
        self.assertEqual(TEMPLATE, self.fake.operations[-1].template)

    def test_update_by_name_follows_redirect(self):
        self.create('port_x')
        self.wait_status('port_x', 'CREATE_COMPLETE')

        self.hc.stacks.update('port_x', template=TEMPLATE,
                              parameters={'network': 'net-2'}, tags=TAGS)

        self.wait_status('port_x', 'UPDATE_COMPLETE')
        self.assertEqual(1, self.fake.calls['update'])
        self.assertEqual(['CREATE', 'UPDATE'],
                         [op.action for op in self.fake.operations])

    def test_update_in_progress_conflict(self):
        self.fake.outcome = lambda op: NEVER
        stack_id = self.create('port_x')

        e = self.assertRaises(
            heat_exc.HTTPConflict, self.hc.stacks.update,
            'port_x/%s' % stack_id, template=TEMPLATE,
            parameters={'network': 'n'})
        self.assertEqual('Stack port_x already has an action (CREATE) in '
                         'progress.', e.error['error']['message'])
        self.assertEqual('ActionInProgress', e.error['error']['type'])

    def test_update_missing(self):
        self.assertRaises(heat_exc.HTTPNotFound, self.hc.stacks.update,
                          'nope', template=TEMPLATE,
                          parameters={'network': 'n'})
        self.assertRaises(heat_exc.HTTPNotFound, self.hc.stacks.update,
                          'nope/0b5e0c1a-3f0e-4b8e-9a59-1a2b3c4d5e6f',
                          template=TEMPLATE, parameters={'network': 'n'})

    def test_update_while_deleting(self):
        self.fake.outcome = lambda op: (
            NEVER if op.action == 'DELETE' else heat_api.Outcome())
        stack_id = self.create('port_x')
        self.wait_status('port_x', 'CREATE_COMPLETE')
        self.hc.stacks.delete('port_x')

        e = self.assertRaises(
            heat_exc.HTTPBadRequest, self.hc.stacks.update,
            'port_x/%s' % stack_id, template=TEMPLATE,
            parameters={'network': 'n'})
        self.assertEqual('NotSupported', e.error['error']['type'])

    def test_delete(self):
        stack_id = self.create('port_x')
        ident = 'port_x/%s' % stack_id
        self.wait_status(ident, 'CREATE_COMPLETE')

        self.hc.stacks.delete(ident)

        stack = self.wait_status(ident, 'DELETE_COMPLETE')
        self.assertEqual('Stack DELETE completed successfully',
                         stack.stack_status_reason)
        self.assertFalse(hasattr(stack, 'outputs'))
        self.assertEqual('DELETE_COMPLETE',
                         self.hc.stacks.get(stack_id).stack_status)
        self.assertRaises(heat_exc.HTTPNotFound,
                          self.hc.stacks.get, 'port_x')
        self.assertEqual([], self.list_names())
        self.assertEqual(['port_x'], self.list_names(show_deleted=True))
        self.assertRaises(heat_exc.HTTPNotFound,
                          self.hc.stacks.delete, ident)
        # The name is free again.
        self.assertNotEqual(stack_id, self.create('port_x'))

    def test_delete_by_name_follows_redirect(self):
        self.create('port_x')

        self.hc.stacks.delete('port_x')

        wait_for(lambda: not self.list_names())
        self.assertEqual(1, self.fake.calls['delete'])
        self.assertRaises(heat_exc.HTTPNotFound,
                          self.hc.stacks.delete, 'port_x')

    def test_delete_supersedes_pending_outcome(self):
        self.fake.outcome = lambda op: (
            NEVER if op.action == 'CREATE' else heat_api.Outcome())
        stack_id = self.create('port_x')

        self.hc.stacks.delete('port_x/%s' % stack_id)

        self.wait_status(stack_id, 'DELETE_COMPLETE')
        self.assertRaises(ValueError, self.fake.finish, stack_id)


class TestOutcomes(FakeHeatTestCase):

    def test_failed_outcome(self):
        self.start_fake(outcome=by_name_prefix(
            bad=heat_api.Outcome(status='FAILED', reason='Quota exceeded'),
            worse=heat_api.Outcome(status='FAILED')))
        self.create('bad_port')
        self.create('worse_port')

        self.assertEqual(
            'Quota exceeded',
            self.wait_status('bad_port',
                             'CREATE_FAILED').stack_status_reason)
        stack = self.wait_status('worse_port', 'CREATE_FAILED')
        self.assertEqual(heat_api.FAILED_REASON % 'CREATE',
                         stack.stack_status_reason)
        self.assertEqual([], stack.outputs)

    def test_failure_with_rollback(self):
        self.start_fake(outcome=lambda op: heat_api.Outcome(status='FAILED'))
        self.create('port_x', disable_rollback=False)

        stack = self.wait_status('port_x', 'ROLLBACK_COMPLETE')
        self.assertEqual('Stack ROLLBACK completed successfully',
                         stack.stack_status_reason)

    def test_custom_outputs(self):
        outputs = [{'output_key': 'k', 'output_value': 'v',
                    'description': 'd'}]
        self.start_fake(outcome=lambda op: heat_api.Outcome(outputs=outputs))
        self.create('port_x')

        self.assertEqual(outputs, self.wait_status(
            'port_x', 'CREATE_COMPLETE').outputs)

    def test_timeout(self):
        # With time_scale 0.001, the 1 minute timeout strikes in 60 ms.
        self.start_fake(time_scale=0.001,
                        outcome=lambda op: heat_api.Outcome(delay=3600))
        stack_id = self.create('port_x', timeout_mins=1)

        stack = self.wait_status('port_x', 'CREATE_FAILED')
        self.assertEqual('Create timed out', stack.stack_status_reason)
        self.hc.stacks.update('port_x/%s' % stack_id, template=TEMPLATE,
                              parameters={'network': 'n'}, timeout_mins=1)
        stack = self.wait_status('port_x', 'UPDATE_FAILED')
        self.assertEqual('Timed out', stack.stack_status_reason)

    def test_policy_sees_operation(self):
        seen = []

        def policy(operation):
            seen.append(operation)
            return heat_api.Outcome()

        self.start_fake(outcome=policy)
        stack_id = self.create('port_x', parameters={'network': 'n'})
        self.wait_status('port_x', 'CREATE_COMPLETE')
        self.hc.stacks.delete('port_x/%s' % stack_id)
        self.wait_status(stack_id, 'DELETE_COMPLETE')

        self.assertEqual(self.fake.operations, seen)
        create, delete = seen
        self.assertEqual(heat_api.Operation(
            action='CREATE', stack_name='port_x', stack_id=stack_id,
            template=TEMPLATE, parameters={'network': 'n'},
            timeout_mins=6, disable_rollback=True,
            tags=['esi-agent', 'esi-job-abc']), create)
        self.assertEqual('DELETE', delete.action)
        self.assertEqual(create.parameters, delete.parameters)

    def test_policy_error(self):
        def policy(operation):
            raise RuntimeError('broken policy')

        self.start_fake(outcome=policy)
        e = self.assertRaises(heat_exc.HTTPInternalServerError,
                              self.create, 'port_x')
        self.assertIn('broken policy', str(e))
        self.assertEqual([], self.fake.operations)
        self.assertEqual([], self.list_names())
        self.assertRaises(heat_exc.HTTPNotFound,
                          self.hc.stacks.get, 'port_x')

    def test_finish(self):
        self.start_fake(outcome=lambda op: NEVER)
        self.create('port_x')
        self.create('port_y')

        self.fake.finish('port_x')
        self.fake.finish('port_y', heat_api.Outcome(status='FAILED',
                                                    reason='boom'))

        self.assertEqual('CREATE_COMPLETE',
                         self.hc.stacks.get('port_x').stack_status)
        self.assertEqual('boom',
                         self.hc.stacks.get('port_y').stack_status_reason)
        self.assertRaises(ValueError, self.fake.finish, 'port_x')
        self.assertRaises(KeyError, self.fake.finish, 'nope')

    def test_outcome_validation(self):
        self.assertRaises(ValueError, heat_api.Outcome, status='DONE')
        self.assertRaises(ValueError, heat_api.Outcome, delay=-1)

    def test_template_outputs(self):
        self.assertEqual(
            [{'output_key': 'trunk_id', 'output_value': 's/trunk_id',
              'description': 'The trunk'}],
            heat_api.template_outputs(TEMPLATE_V2, 's'))
        self.assertEqual([], heat_api.template_outputs({}, 's'))


class TestList(FakeHeatTestCase):

    def test_filters(self):
        self.start_fake(outcome=by_name_prefix(
            fail=heat_api.Outcome(status='FAILED'), slow=NEVER))
        ids = {name: self.create(name)
               for name in ('ok1', 'ok2', 'fail1', 'slow1')}
        self.wait_status('ok1', 'CREATE_COMPLETE')
        self.wait_status('ok2', 'CREATE_COMPLETE')
        self.wait_status('fail1', 'CREATE_FAILED')

        def names(**filters):
            return sorted(self.list_names(filters=filters))

        self.assertEqual(['ok1', 'ok2'], names(status=['COMPLETE']))
        self.assertEqual(['fail1', 'ok1', 'ok2'],
                         names(status=['COMPLETE', 'FAILED']))
        self.assertEqual(['slow1'], names(status='IN_PROGRESS'))
        self.assertEqual([], names(status=['CREATE_COMPLETE']))
        self.assertEqual(sorted(ids), names(action=['CREATE']))
        self.assertEqual(['fail1', 'ok1'], names(name=['ok1', 'fail1']))
        self.assertEqual(['ok2'], names(id=[ids['ok2']]))
        self.assertEqual(['ok2'], names(id=[ids['ok2']], name=['ok2'],
                                        status=['COMPLETE']))

    def test_summary(self):
        self.start_fake()
        stack_id = self.create('port_x')
        self.wait_status('port_x', 'CREATE_COMPLETE')

        stack, = self.hc.stacks.list()
        self.assertEqual(stack_id, stack.id)
        self.assertEqual('CREATE_COMPLETE', stack.stack_status)
        self.assertEqual(['esi-agent', 'esi-job-abc'], stack.tags)
        self.assertEqual('port_x/%s' % stack_id, stack.identifier)

    def test_tags(self):
        self.start_fake()
        self.create('job1', tags='esi-agent,job-1')
        self.create('job2', tags='esi-agent,job-2')
        self.create('other', tags='other')
        self.create('untagged', tags=None)

        self.assertEqual(['job1', 'job2'],
                         sorted(self.list_names(tags='esi-agent')))
        self.assertEqual(['job1'], self.list_names(tags='esi-agent,job-1'))
        self.assertEqual(['job1', 'other'],
                         sorted(self.list_names(tags_any='job-1,other')))
        self.assertEqual(['other', 'untagged'],
                         sorted(self.list_names(not_tags='esi-agent')))
        self.assertEqual(['job2', 'untagged'],
                         sorted(self.list_names(not_tags_any='job-1,other')))

    def test_limit_and_marker(self):
        self.start_fake()
        for i in range(7):
            self.create('s%d' % i)

        # Newest first by default; heatclient's limit caps the total.
        first = list(self.hc.stacks.list(limit=3))
        self.assertEqual(['s6', 's5', 's4'], [s.stack_name for s in first])
        second = list(self.hc.stacks.list(limit=3, marker=first[-1].id))
        self.assertEqual(['s3', 's2', 's1'], [s.stack_name for s in second])
        self.assertEqual(['s0'], self.list_names(limit=3,
                                                 marker=second[-1].id))
        self.assertEqual(['s%d' % i for i in range(7)],
                         self.list_names(sort_keys='stack_name',
                                         sort_dir='asc'))
        self.assertEqual(['s1', 's0'],
                         self.list_names(sort_keys='stack_name',
                                         sort_dir='desc',
                                         marker=second[1].id))

    def test_next_link(self):
        self.start_fake()
        for i in range(4):
            self.create('s%d' % i)

        resp = requests.get(self.fake.endpoint + '/stacks',
                            params={'limit': 2, 'tags': 'esi-agent'},
                            timeout=10)
        body = resp.json()
        self.assertEqual(2, len(body['stacks']))
        link, = body['links']
        self.assertEqual('next', link['rel'])
        resp = requests.get(link['href'], timeout=10)
        self.assertEqual(['s1', 's0'], [s['stack_name']
                                        for s in resp.json()['stacks']])

    def test_heatclient_pagination(self):
        self.start_fake(max_page_size=3)
        for i in range(7):
            self.create('s%d' % i)

        # heatclient asks for more pages only while short of its limit...
        self.assertEqual(['s%d' % i for i in range(6, -1, -1)],
                         self.list_names(limit=100))
        self.assertEqual(4, self.fake.calls['list'])
        # ... so without a limit it stops after the first page.
        self.assertEqual(['s6', 's5', 's4'], self.list_names())

    def test_bad_parameters(self):
        self.start_fake()
        self.assertRaises(heat_exc.HTTPBadRequest, self.list_names,
                          sort_dir='up')
        # heatclient itself refuses a limit that is not an integer.
        resp = requests.get(self.fake.endpoint + '/stacks',
                            params={'limit': 'x'}, timeout=10)
        self.assertEqual(400, resp.status_code)
        self.assertEqual("Only integer is acceptable by 'limit'.",
                         resp.json()['error']['message'])


class TestFaults(FakeHeatTestCase):

    def setUp(self):
        super().setUp()
        self.start_fake()

    def call_in_thread(self, func, *args, **kwargs):
        """Call ``func`` in a thread; return the thread and a result dict."""
        result = {}

        def run():
            try:
                result['value'] = func(*args, **kwargs)
            except Exception as e:
                result['error'] = e

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        self.addCleanup(thread.join, 10)
        return thread, result

    def test_fail_next(self):
        self.fake.fail_next(1, status=500)
        self.fake.fail_next(2)

        self.assertRaises(heat_exc.HTTPInternalServerError, self.list_names)
        self.assertRaises(heat_exc.HTTPServiceUnavailable, self.list_names)
        e = self.assertRaises(heat_exc.HTTPServiceUnavailable, self.create,
                              'port_x')
        self.assertEqual('HTTPServiceUnavailable', e.error['error']['type'])
        self.create('port_x')
        self.assertEqual(2, self.fake.calls['list'])
        self.assertEqual(2, self.fake.calls['create'])
        self.assertEqual(1, self.fake.creates_by_name['port_x'])

    def test_latency(self):
        self.fake.latency = 0.2
        start = time.monotonic()
        self.list_names()
        self.assertGreaterEqual(time.monotonic() - start, 0.2)

    def test_pause_resume(self):
        self.fake.pause()
        thread, result = self.call_in_thread(self.list_names)
        wait_for(lambda: self.fake.calls['list'] == 1)
        self.assertTrue(thread.is_alive())

        self.fake.resume()

        thread.join(10)
        self.assertFalse(thread.is_alive())
        self.assertEqual({'value': []}, result)

    def test_stop_releases_paused_requests(self):
        self.fake.pause()
        thread, result = self.call_in_thread(self.list_names)
        wait_for(lambda: self.fake.calls['list'] == 1)

        self.fake.stop()

        thread.join(10)
        self.assertFalse(thread.is_alive())
        self.assertIsInstance(result.get('error'), ks_exc.ConnectionError)

    def test_restart(self):
        stack_id = self.create('port_x')
        endpoint = self.fake.endpoint
        self.fake.stop()
        self.assertRaises(ks_exc.ConnectFailure, self.list_names)

        self.fake.start()

        self.assertEqual(endpoint, self.fake.endpoint)
        self.assertEqual(stack_id, self.hc.stacks.get('port_x').id)

    def test_admin_resources(self):
        admin = self.fake.endpoint.split('/v1/')[0] + '/_fake/'
        self.create('port_x')
        self.assertEqual(
            204, requests.post(admin + 'fail_next', timeout=10,
                               json={'count': 1, 'status': 502}).status_code)
        self.assertRaises(heat_exc.HTTPBadGateway, self.list_names)
        requests.post(admin + 'pause', timeout=10)
        self.assertTrue(self.fake.paused)
        requests.post(admin + 'resume', timeout=10)
        self.assertFalse(self.fake.paused)
        requests.put(admin + 'latency', json={'seconds': 0.01}, timeout=10)
        self.assertEqual(0.01, self.fake.latency)

        stats = requests.get(admin + 'stats', timeout=10).json()
        self.assertEqual({'create': 1, 'list': 1}, stats['calls'])
        self.assertEqual({'port_x': 1}, stats['creates_by_name'])
        self.assertEqual({'CREATE': 1}, stats['operations'])
        self.assertEqual(1, sum(stats['stacks'].values()))
        self.assertEqual(404, requests.get(admin + 'nope',
                                           timeout=10).status_code)


class TestTimelineAndListRefused(FakeHeatTestCase):

    def setUp(self):
        super().setUp()
        self.start_fake(outcome=by_name_prefix(slow=NEVER))

    def test_timeline(self):
        before = time.time()
        stack_id = self.create('port_x')
        self.wait_status(stack_id, 'CREATE_COMPLETE')
        self.create('slow_x')

        first, second = self.fake.timeline()

        self.assertEqual(
            {'action': 'CREATE', 'stack_name': 'port_x',
             'stack_id': stack_id, 'tags': ['esi-agent', 'esi-job-abc'],
             'stack_status': 'CREATE_COMPLETE'},
            {k: v for k, v in first.items()
             if k not in ('started_at', 'ended_at')})
        self.assertLessEqual(before, first['started_at'])
        self.assertLessEqual(first['started_at'], first['ended_at'])
        self.assertIsNone(second['ended_at'])
        self.assertIsNone(second['stack_status'])
        admin = self.fake.endpoint.split('/v1/')[0] + '/_fake/timeline'
        self.assertEqual({'timeline': [first, second]},
                         requests.get(admin, timeout=10).json())

    def test_list_refused(self):
        self.create('port_x')
        self.fake.list_refused = True

        e = self.assertRaises(heat_exc.HTTPBadRequest, self.list_names)
        self.assertEqual('Stack list refused by FakeHeat.',
                         e.error['error']['message'])
        # Other calls are answered.
        self.assertEqual('port_x', self.hc.stacks.get('port_x').stack_name)

        admin = self.fake.endpoint.split('/v1/')[0] + '/_fake/list_refused'
        self.assertEqual(204, requests.put(admin, json={'refused': False},
                                           timeout=10).status_code)
        self.assertEqual(['port_x'], self.list_names())
        self.assertEqual(400, requests.put(admin, json={'refused': 'no'},
                                           timeout=10).status_code)


class NotificationRecorder(object):
    """A notification endpoint recording everything, at two priorities."""

    def __init__(self):
        self.seen = []

    def info(self, ctxt, publisher_id, event_type, payload, metadata):
        self.seen.append(('info', publisher_id, event_type, payload))

    def error(self, ctxt, publisher_id, event_type, payload, metadata):
        self.seen.append(('error', publisher_id, event_type, payload))


class TestNotifications(FakeHeatTestCase):
    """Heat's notifications, over oslo.messaging's in-process transport."""

    def setUp(self):
        super().setUp()
        # The driver's exchanges are shared within the process.
        self.topic = 'notifications-%s' % uuid.uuid4().hex[:8]
        transport = messaging.get_notification_transport(
            base.CONF, url='fake:/')
        self.addCleanup(transport.cleanup)
        self.recorder = NotificationRecorder()
        listener = messaging.get_notification_listener(
            transport, [messaging.Target(exchange='heat', topic=self.topic)],
            [self.recorder])
        listener.start()
        self.addCleanup(listener.wait)
        self.addCleanup(listener.stop)
        self.start_fake(notify_url='fake:/', notify_topic=self.topic,
                        notify_host='heat-1',
                        outcome=by_name_prefix(
                            fail=heat_api.Outcome(status='FAILED')))

    def wait_seen(self, n):
        wait_for(lambda: len(self.recorder.seen) >= n)
        return self.recorder.seen

    def test_heat_payload(self):
        stack_id = self.create('port_x')

        seen = self.wait_seen(2)

        start, end = seen
        self.assertEqual(('info', 'orchestration.heat-1',
                          'orchestration.stack.create.start'), start[:3])
        self.assertEqual(('info', 'orchestration.heat-1',
                          'orchestration.stack.create.end'), end[:3])
        payload = dict(end[3])
        self.assertRegex(payload.pop('create_at'),
                         r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$')
        # As Heat 27 sends it (heat.engine.api.format_notification_body).
        self.assertEqual({
            'description': 'A port for the esi-agent tests',
            'stack_identity': stack_id,
            'stack_name': 'port_x',
            'state': 'CREATE_COMPLETE',
            'state_reason': 'Stack CREATE completed successfully',
            'tags': ['esi-agent', 'esi-job-abc'],
            'tenant_id': 'admin',
            'updated_at': None,
            'user_id': 'admin',
            'user_identity': 'admin',
            'username': 'admin'}, payload)
        self.assertEqual('CREATE_IN_PROGRESS', start[3]['state'])
        self.assertEqual('Stack CREATE started', start[3]['state_reason'])
        self.assertEqual(2, self.fake.notifications_sent)
        self.assertEqual(2, self.fake.stats()['notifications_sent'])

    def test_failure_is_an_error(self):
        self.create('fail_x')

        # Error and info notifications travel on two queues: their order
        # of arrival is not their order of emission.
        seen = sorted(self.wait_seen(2), key=lambda n: n[2])

        self.assertEqual([('error', 'orchestration.heat-1',
                           'orchestration.stack.create.error'),
                          ('info', 'orchestration.heat-1',
                           'orchestration.stack.create.start')],
                         [n[:3] for n in seen])
        self.assertEqual('CREATE_FAILED', seen[0][3]['state'])
        self.assertEqual(heat_api.FAILED_REASON % 'CREATE',
                         seen[0][3]['state_reason'])

    def test_update_and_delete(self):
        stack_id = self.create('port_x')
        self.wait_status(stack_id, 'CREATE_COMPLETE')
        self.hc.stacks.update(stack_id, template=TEMPLATE_V2,
                              parameters={'network': 'n'}, tags='esi-agent')
        self.wait_status(stack_id, 'UPDATE_COMPLETE')
        self.hc.stacks.delete(stack_id)

        seen = self.wait_seen(6)

        self.assertEqual(
            ['orchestration.stack.%s' % e for e in (
                'create.start', 'create.end', 'update.start', 'update.end',
                'delete.start', 'delete.end')],
            [event_type for _p, _pub, event_type, _b in seen])
        update_end, delete_end = seen[3][3], seen[5][3]
        self.assertEqual(['esi-agent'], update_end['tags'])
        self.assertIsNotNone(update_end['updated_at'])
        self.assertEqual('DELETE_COMPLETE', delete_end['state'])
        self.assertEqual('No description', delete_end['description'])

    def test_no_notifications_by_default(self):
        fake = self.useFixture(heat_api.FakeHeat())
        self.assertEqual(0, fake.notifications_sent)


class TestServer(base.TestCase):

    def test_context_manager(self):
        with heat_api.FakeHeat() as fake:
            endpoint = fake.endpoint
            self.assertEqual(200, requests.get(endpoint + '/stacks',
                                               timeout=10).status_code)
            self.assertRaises(RuntimeError, fake.start)
        self.assertRaises(requests.ConnectionError, requests.get,
                          endpoint + '/stacks', timeout=10)

    def test_endpoint_needs_start(self):
        fake = heat_api.FakeHeat()
        self.assertRaises(RuntimeError, getattr, fake, 'endpoint')
        fake.stop()

    def test_concurrent_clients(self):
        fake = self.useFixture(heat_api.FakeHeat(stack_time=0.01))
        errors = []

        def create(i):
            sess = session.Session(auth=noauth.NoAuth(endpoint=fake.endpoint))
            hc = heat_client.Client('1', session=sess,
                                    endpoint_override=fake.endpoint)
            try:
                hc.stacks.create(stack_name='s%d' % i, template=TEMPLATE,
                                 parameters={'network': 'n'})
            except Exception as e:
                errors.append(e)
            finally:
                sess.session.close()

        threads = [threading.Thread(target=create, args=(i,))
                   for i in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)

        self.assertEqual([], errors)
        self.assertEqual(20, fake.calls['create'])
        wait_for(lambda: fake.stats()['stacks'] == {'CREATE_COMPLETE': 20})

    def test_scheduler_scales(self):
        scheduler = heat_api._Scheduler()
        scheduler.start()
        self.addCleanup(scheduler.stop)
        done = []
        now = time.monotonic()
        for i in range(10000):
            scheduler.call_at(now + (i % 100) / 1000.0,
                              lambda i=i: done.append(i))

        wait_for(lambda: len(done) == 10000)
        self.assertEqual(set(range(10000)), set(done))

    def test_scheduler_order_and_restart(self):
        scheduler = heat_api._Scheduler()
        done = []
        now = time.monotonic()
        for delay in (0.03, 0.01, 0.02):
            scheduler.call_at(now + delay, lambda d=delay: done.append(d))

        # Calls wait for the scheduler to be (re)started.
        scheduler.start()
        self.addCleanup(scheduler.stop)

        wait_for(lambda: len(done) == 3)
        self.assertEqual([0.01, 0.02, 0.03], done)

    def test_standalone_process(self):
        env = dict(os.environ)
        env['PYTHONPATH'] = os.pathsep.join(
            filter(None, [REPO_ROOT, env.get('PYTHONPATH')]))
        proc = subprocess.Popen(
            [sys.executable, '-m', 'esi_agent.tests.fakes.heat_api',
             '--port', '0', '--stack-time', '0'],
            cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, text=True)
        self.addCleanup(proc.stdout.close)
        self.addCleanup(lambda: proc.poll() is None and proc.kill())
        endpoint = proc.stdout.readline().strip()
        self.assertTrue(endpoint.startswith('http://127.0.0.1:'), endpoint)

        sess = session.Session(auth=noauth.NoAuth(endpoint=endpoint))
        self.addCleanup(sess.session.close)
        hc = heat_client.Client('1', session=sess, endpoint_override=endpoint)
        hc.stacks.create(stack_name='port_x', template=TEMPLATE,
                         parameters={'network': 'n'})
        admin = endpoint.split('/v1/')[0] + '/_fake/stats'
        stats = requests.get(admin, timeout=10).json()
        self.assertEqual({'create': 1}, stats['calls'])
        self.assertEqual({'port_x': 1}, stats['creates_by_name'])

        proc.send_signal(signal.SIGTERM)
        self.assertEqual(0, proc.wait(timeout=10))
