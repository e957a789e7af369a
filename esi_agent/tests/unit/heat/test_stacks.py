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

"""Unit tests of :mod:`esi_agent.heat.stacks` and :mod:`esi_agent.heat.client`.

The real :class:`Stacks` talks, through the real python-heatclient built by
:func:`esi_agent.heat.client.get_client` from the ``[heat]`` options, to the
in-process Heat API stand-in :class:`FakeHeat`.
"""

import math

import fixtures
from heatclient import exc as heat_exc
from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import loading as ks_loading

from esi_agent import exception
from esi_agent.heat import client as heat_client
from esi_agent.heat import stacks
from esi_agent.tests import base
from esi_agent.tests.fakes import heat_api

CONF = base.CONF

# Deliberately odd formatting: the text must reach Heat byte for byte.
TEMPLATE = (
    'heat_template_version: 2018-08-31\n'
    'description:   A port   # kept as is\n'
    'parameters:\n'
    '  network: {type: string}\n'
    '  vlan:\n'
    '    type: number\n'
    '    default: 100\n'
    'resources: {}\n'
    'outputs:\n'
    '  port_id:\n'
    '    description: The port\n'
    '    value: {get_resource: port}\n'
    '  mac:\n'
    '    value: {get_attr: [port, mac]}\n')
TEMPLATE_V2 = (
    'heat_template_version: 2018-08-31\n'
    'parameters:\n'
    '  network: {type: string}\n'
    'resources: {}\n')
PARAMS = {'network': 'net-1', 'vlan': 42}
PARAMS_V2 = {'network': 'net-2'}

NAME = 'port_f84496b5-dc56-4727-87b1-aa06e2471737'
JOB_1 = 'create:heat_worker:port:f84496b5-dc56-4727-87b1-aa06e2471737:1:x'
JOB_2 = 'modify:heat_worker:port:f84496b5-dc56-4727-87b1-aa06e2471737:2:y'

#: An outcome policy under which no operation ends by itself.
NEVER = heat_api.Outcome(delay=float('inf'))


class TestHelpers(base.TestCase):

    def test_stack_name(self):
        self.assertEqual('port_abc', stacks.stack_name('port', 'abc'))
        self.assertEqual(
            'edge_router_1-2', stacks.stack_name('edge_router', '1-2'))

    def test_job_tag(self):
        tag = stacks.job_tag(JOB_1)
        self.assertEqual(tag, stacks.job_tag(JOB_1))
        self.assertNotEqual(tag, stacks.job_tag(JOB_2))
        self.assertRegex(tag, r'^esi-job-[0-9a-f]{16}$')
        # A Heat tag holds no comma and at most 80 characters.
        self.assertNotIn(',', stacks.job_tag('a,b' * 200))
        self.assertLessEqual(len(stacks.job_tag('x' * 1000)), 80)
        # Non-ASCII ids hash too.
        self.assertRegex(stacks.job_tag('j\u00e9b'),
                         r'^esi-job-[0-9a-f]{16}$')
        # A retried job tags its stack anew, once per attempt.
        self.assertEqual(tag, stacks.job_tag(JOB_1, 0))
        retried = {stacks.job_tag(JOB_1, n) for n in (1, 2)}
        self.assertEqual(2, len(retried))
        self.assertNotIn(tag, retried)

    def test_is_terminal(self):
        for status in ('CREATE_COMPLETE', 'CREATE_FAILED', 'UPDATE_COMPLETE',
                       'UPDATE_FAILED', 'DELETE_COMPLETE', 'DELETE_FAILED',
                       'ROLLBACK_COMPLETE', 'ROLLBACK_FAILED'):
            self.assertTrue(stacks.is_terminal(status), status)
        for status in ('CREATE_IN_PROGRESS', 'UPDATE_IN_PROGRESS',
                       'DELETE_IN_PROGRESS', 'ROLLBACK_IN_PROGRESS', '',
                       None):
            self.assertFalse(stacks.is_terminal(status), status)

    def test_heat_message_of_heat_error_body(self):
        error = heat_exc.HTTPConflict(
            '{"code": 409, "error": {"message": "The Stack (x) already '
            'exists.", "type": "StackExists"}, "title": "Conflict"}')
        self.assertEqual('The Stack (x) already exists. (HTTP 409)',
                         stacks.heat_message(error))

    def test_heat_message_of_non_json_body(self):
        error = heat_exc.HTTPBadGateway('<html>bad gateway</html>')
        message = stacks.heat_message(error)
        self.assertIn('502', message)

    def test_heat_message_of_other_errors(self):
        self.assertEqual('boom', stacks.heat_message(ValueError('boom')))
        self.assertEqual('refused', stacks.heat_message(
            ks_exc.ConnectFailure('refused')))
        self.assertEqual('ValueError', stacks.heat_message(ValueError()))


class StacksTestCase(base.TestCase):

    def setUp(self):
        super().setUp()
        # No operation ends by itself: tests end them with finish().
        self.fake = self.useFixture(heat_api.FakeHeat(
            outcome=lambda op: NEVER))
        self.config(auth_type='none', endpoint_override=self.fake.endpoint,
                    api_retry_max_delay=0, group='heat')
        client = heat_client.get_client(CONF)
        self.addCleanup(client.http_client.session.session.close)
        self.stacks = stacks.Stacks(client, CONF)
        self.tag_1 = stacks.job_tag(JOB_1)
        self.tag_2 = stacks.job_tag(JOB_2)

    def create(self, name=NAME, template=TEMPLATE, parameters=PARAMS,
               timeout_mins=7, tag=None):
        return self.stacks.create(name, template, parameters, timeout_mins,
                                  tag or self.tag_1)

    def update(self, name=NAME, template=TEMPLATE_V2, parameters=PARAMS_V2,
               timeout_mins=9, tag=None):
        return self.stacks.update(name, template, parameters, timeout_mins,
                                  tag or self.tag_2)

    def actions(self):
        return [op.action for op in self.fake.operations]


class TestClient(StacksTestCase):

    def test_noauth_endpoint_override(self):
        # The client built from [heat] reaches the endpoint_override.
        self.assertIsNone(self.stacks.find('nothing_here'))
        self.assertEqual(1, self.fake.calls['lookup'])

    def test_password_auth_options_load(self):
        # The keystoneauth options of [heat] are the ones get_client reads.
        # (The options of an auth plugin are registered when it is loaded.)
        self.cfg_fixture.register_opts(
            ks_loading.get_auth_plugin_conf_options('password'),
            group='heat')
        self.config(auth_type='password', auth_url='http://keystone:5000/v3',
                    username='esi-agent', password='secret',
                    project_name='service', user_domain_name='Default',
                    project_domain_name='Default', region_name='R1',
                    interface='internal', group='heat')
        client = heat_client.get_client(CONF)
        self.addCleanup(client.http_client.session.session.close)
        adapter = client.http_client
        self.assertEqual('http://keystone:5000/v3', adapter.auth.auth_url)
        self.assertEqual('R1', adapter.region_name)
        self.assertEqual('internal', adapter.interface)
        self.assertEqual('orchestration', adapter.service_type)
        self.assertEqual(self.fake.endpoint, adapter.endpoint_override)

    def test_a_connection_for_each_thread(self):
        self.config(max_concurrent_jobs=30, record_writers=5, group='agent')
        client = heat_client.get_client(CONF)
        http = client.http_client.session.session
        self.addCleanup(http.close)
        for url in ('http://heat:8004/v1', 'https://heat/v1'):
            self.assertEqual(37, http.get_adapter(url)._pool_maxsize)

    def test_service_type_survives_conf_reset(self):
        # [heat] service_type defaults to 'orchestration'; that must hold
        # after ConfigOpts.reset(), which the config fixtures run after
        # every test, so that the client finds Heat in the catalog.
        CONF.reset()
        CONF([], project='esi-agent', default_config_files=[])
        self.config(auth_type='none', endpoint_override=self.fake.endpoint,
                    group='heat')

        client = heat_client.get_client(CONF)
        self.addCleanup(client.http_client.session.session.close)

        self.assertEqual('orchestration', client.http_client.service_type)
        self.assertIsNone(self.stacks.find('nothing_here'))


class TestCreate(StacksTestCase):

    def test_create_sends_job_fields(self):
        self.config(stack_tag='my-agent', group='heat')

        status = self.create()

        self.assertEqual('CREATE_IN_PROGRESS', status.status)
        self.assertEqual(NAME, status.name)
        [op] = self.fake.operations
        self.assertEqual('CREATE', op.action)
        self.assertEqual(NAME, op.stack_name)
        self.assertEqual(op.stack_id, status.id)
        self.assertEqual(TEMPLATE, op.template)
        self.assertIsInstance(op.template, str)
        self.assertEqual(PARAMS, op.parameters)
        self.assertEqual(7, op.timeout_mins)
        self.assertIs(True, op.disable_rollback)
        self.assertEqual(['my-agent', self.tag_1], op.tags)
        self.assertEqual(1, self.fake.calls['create'])

    def test_create_then_find(self):
        created = self.create()

        found = self.stacks.find(NAME)
        self.assertEqual(created.id, found.id)
        self.assertEqual('CREATE_IN_PROGRESS', found.status)
        self.assertEqual('Stack CREATE started', found.reason)
        self.assertEqual(['esi-agent', self.tag_1], found.tags)
        self.assertEqual('%s/%s' % (NAME, created.id), found.identity)

    def test_create_of_existing_stack_updates_it(self):
        first = self.create()
        self.fake.finish(NAME)

        status = self.create(template=TEMPLATE_V2, parameters=PARAMS_V2,
                             timeout_mins=9, tag=self.tag_2)

        self.assertEqual('UPDATE_IN_PROGRESS', status.status)
        self.assertEqual(first.id, status.id)
        self.assertEqual(NAME, status.name)
        self.assertEqual(2, self.fake.creates_by_name[NAME])
        self.assertEqual(1, self.fake.calls['update'])
        self.assertEqual(['CREATE', 'UPDATE'], self.actions())
        op = self.fake.operations[-1]
        self.assertEqual(TEMPLATE_V2, op.template)
        self.assertEqual(PARAMS_V2, op.parameters)
        self.assertEqual(9, op.timeout_mins)
        self.assertIs(True, op.disable_rollback)
        self.assertEqual(['esi-agent', self.tag_2], op.tags)

    def test_create_adopts_stack_with_job_tag(self):
        # The create went through, but its answer was lost (restart, or a
        # retried request): the stack carries the job's tag already.
        first = self.create()

        status = self.create()

        self.assertEqual(first.id, status.id)
        self.assertEqual('CREATE_IN_PROGRESS', status.status)
        self.assertEqual(['CREATE'], self.actions())
        self.assertEqual(0, self.fake.calls['update'])
        self.assertEqual(2, self.fake.creates_by_name[NAME])

    def test_create_adopts_completed_stack_with_job_tag(self):
        first = self.create()
        self.fake.finish(NAME)

        status = self.create()

        self.assertEqual(first.id, status.id)
        self.assertEqual('CREATE_COMPLETE', status.status)
        self.assertEqual(['CREATE'], self.actions())
        self.assertEqual(0, self.fake.calls['update'])

    def test_create_rejected_by_heat(self):
        # A parameter the template does not declare: a 400, not retried.
        e = self.assertRaises(exception.HeatError, self.create,
                              parameters={'network': 'n', 'nope': 1})

        self.assertIn('The Parameter (nope) was not defined in template.',
                      str(e))
        self.assertIn('400', str(e))
        self.assertIn(NAME, str(e))
        self.assertEqual(1, self.fake.calls['create'])
        self.assertEqual([], self.fake.operations)

    def test_create_bad_stack_name(self):
        e = self.assertRaises(exception.HeatError, self.create,
                              name='9-not-a-name')
        self.assertIn('Invalid stack name', str(e))
        self.assertEqual(1, self.fake.calls['create'])


class TestUpdate(StacksTestCase):

    def test_update_of_missing_stack_creates_it(self):
        status = self.update()

        self.assertEqual('CREATE_IN_PROGRESS', status.status)
        self.assertEqual(NAME, status.name)
        self.assertEqual(['CREATE'], self.actions())
        self.assertEqual(0, self.fake.calls['update'])
        [op] = self.fake.operations
        self.assertEqual(status.id, op.stack_id)
        self.assertEqual(TEMPLATE_V2, op.template)
        self.assertEqual(PARAMS_V2, op.parameters)
        self.assertEqual(9, op.timeout_mins)
        self.assertIs(True, op.disable_rollback)
        self.assertEqual(['esi-agent', self.tag_2], op.tags)

    def test_update_of_existing_stack(self):
        first = self.create()
        self.fake.finish(NAME)

        status = self.update()

        self.assertEqual('UPDATE_IN_PROGRESS', status.status)
        self.assertEqual(first.id, status.id)
        self.assertEqual(['CREATE', 'UPDATE'], self.actions())
        self.assertEqual(1, self.fake.creates_by_name[NAME])
        op = self.fake.operations[-1]
        self.assertEqual(TEMPLATE_V2, op.template)
        self.assertEqual(PARAMS_V2, op.parameters)
        self.assertEqual(9, op.timeout_mins)
        self.assertIs(True, op.disable_rollback)
        self.assertEqual(['esi-agent', self.tag_2], op.tags)

    def test_update_adopts_stack_with_job_tag(self):
        self.create()
        self.fake.finish(NAME)
        updated = self.update()
        self.assertEqual('UPDATE_IN_PROGRESS', updated.status)

        status = self.update()

        self.assertEqual(updated.id, status.id)
        self.assertEqual('UPDATE_IN_PROGRESS', status.status)
        self.assertEqual(['CREATE', 'UPDATE'], self.actions())
        self.assertEqual(1, self.fake.calls['update'])


class TestKnownIds(StacksTestCase):
    """Updates and deletes of a stack the agent knows: one call."""

    def test_update_of_a_created_stack_is_one_call(self):
        created = self.create()
        self.fake.finish(NAME)
        before = self.fake.calls

        status = self.update()

        self.assertEqual({'update': 1}, dict(self.fake.calls - before))
        self.assertEqual(created.id, status.id)
        self.assertEqual('UPDATE_IN_PROGRESS', status.status)
        op = self.fake.operations[-1]
        self.assertEqual(('UPDATE', TEMPLATE_V2, PARAMS_V2, 9),
                         (op.action, op.template, op.parameters,
                          op.timeout_mins))
        self.assertEqual(['esi-agent', self.tag_2], op.tags)

    def test_update_of_a_found_stack_is_one_call(self):
        created = self.create()
        self.fake.finish(NAME)
        fresh = stacks.Stacks(self.stacks._client, CONF)
        fresh.find(NAME)
        before = self.fake.calls

        status = fresh.update(NAME, TEMPLATE_V2, PARAMS_V2, 9, self.tag_2)

        self.assertEqual({'update': 1}, dict(self.fake.calls - before))
        self.assertEqual(created.id, status.id)

    def test_update_of_a_replaced_stack(self):
        # Deleted and created again behind the agent's back: the known id
        # is gone, the stack of that name is looked up.
        self.create()
        self.fake.finish(NAME)
        other = stacks.Stacks(self.stacks._client, CONF)
        other.delete(NAME)
        self.fake.finish(NAME)
        replacement = other.create(NAME, TEMPLATE, PARAMS, 7, 'esi-job-x')
        self.fake.finish(NAME)
        before = self.fake.calls

        status = self.update()

        self.assertEqual(replacement.id, status.id)
        self.assertEqual('UPDATE_IN_PROGRESS', status.status)
        self.assertEqual({'update': 2, 'lookup': 1, 'show': 1},
                         dict(self.fake.calls - before))
        self.assertEqual(replacement.id, self.fake.operations[-1].stack_id)

    def test_update_of_a_vanished_stack_creates_it(self):
        first = self.create()
        self.fake.finish(NAME)
        other = stacks.Stacks(self.stacks._client, CONF)
        other.delete(NAME)
        self.fake.finish(NAME)

        status = self.update()

        self.assertEqual('CREATE_IN_PROGRESS', status.status)
        self.assertNotEqual(first.id, status.id)
        self.assertEqual(['CREATE', 'DELETE', 'CREATE'], self.actions())

    def test_update_of_a_busy_stack_is_refused(self):
        self.create()
        self.assertRaises(exception.HeatError, self.update)
        self.assertEqual(['CREATE'], self.actions())

    def test_delete_of_a_known_stack_is_one_call(self):
        created = self.create()
        self.fake.finish(NAME)
        before = self.fake.calls

        status = self.stacks.delete(NAME)

        self.assertEqual({'delete': 1}, dict(self.fake.calls - before))
        self.assertEqual(created.id, status.id)
        self.assertEqual('DELETE_IN_PROGRESS', status.status)

    def test_delete_of_a_replaced_stack(self):
        self.create()
        self.fake.finish(NAME)
        other = stacks.Stacks(self.stacks._client, CONF)
        other.delete(NAME)
        self.fake.finish(NAME)
        replacement = other.create(NAME, TEMPLATE, PARAMS, 7, 'esi-job-x')
        self.fake.finish(NAME)

        status = self.stacks.delete(NAME)

        self.assertEqual(replacement.id, status.id)
        self.assertEqual(['CREATE', 'DELETE', 'CREATE', 'DELETE'],
                         self.actions())
        self.assertEqual(replacement.id, self.fake.operations[-1].stack_id)


class TestDelete(StacksTestCase):

    def test_delete_of_missing_stack(self):
        self.assertIsNone(self.stacks.delete(NAME))
        self.assertEqual(0, self.fake.calls['delete'])
        self.assertEqual([], self.fake.operations)

    def test_delete_of_existing_stack(self):
        created = self.create()
        self.fake.finish(NAME)

        status = self.stacks.delete(NAME)

        self.assertEqual('DELETE_IN_PROGRESS', status.status)
        self.assertEqual(created.id, status.id)
        self.assertEqual(NAME, status.name)
        self.assertEqual(['CREATE', 'DELETE'], self.actions())
        self.assertEqual('DELETE_IN_PROGRESS',
                         self.stacks.statuses([status])[created.id].status)

        self.fake.finish(created.id)

        done = self.stacks.statuses([status])
        self.assertEqual(['DELETE_COMPLETE'],
                         [s.status for s in done.values()])
        self.assertEqual(created.id, done[created.id].id)
        self.assertEqual(NAME, done[created.id].name)
        self.assertIsNone(self.stacks.find(NAME))
        # Deleted twice: the second delete finds nothing to do.
        self.assertIsNone(self.stacks.delete(NAME))
        self.assertEqual(1, self.fake.calls['delete'])


class TestStatuses(StacksTestCase):

    def test_statuses_in_batches(self):
        created = [self.create(name='port_%03d' % i) for i in range(250)]
        # Three of them get deleted: a list call does not show them.
        deleted = created[10:13]
        for stack in deleted:
            self.stacks.delete(stack.name)
            self.fake.finish(stack.id)
        # And one Heat never heard of.
        unknown = stacks.StackStatus(
            'c2a6a1c4-5d7a-4a5e-8a33-1d0f1b3f2e11', 'port_lost',
            'CREATE_IN_PROGRESS')
        self.fake.finish('port_100')
        before = self.fake.calls

        result = self.stacks.statuses(created + [unknown])

        calls = self.fake.calls - before
        self.assertEqual(math.ceil(251 / stacks.LIST_CHUNK), calls['list'])
        # The lists show deleted stacks too: one GET for the stack missing
        # from them, and nothing else.
        self.assertEqual({'list': 3, 'show': 1}, dict(calls))
        self.assertEqual(sorted(s.id for s in created + [unknown]),
                         sorted(result))
        for stack in created:
            expected = 'CREATE_IN_PROGRESS'
            if stack in deleted:
                expected = 'DELETE_COMPLETE'
            elif stack.name == 'port_100':
                expected = 'CREATE_COMPLETE'
            self.assertEqual(expected, result[stack.id].status, stack.name)
            self.assertEqual(stack.name, result[stack.id].name)
        self.assertEqual('DELETE_COMPLETE', result[unknown.id].status)
        self.assertEqual('port_lost', result[unknown.id].name)
        self.assertEqual('Stack CREATE completed successfully',
                         result[created[100].id].reason)

    def test_statuses_list_by_id_without_tags(self):
        # Heat 27 applies list filters to the tag table when the tags query
        # is given too (a 500), so the batched list filters by id only.
        created = self.create()
        before = self.fake.calls

        result = self.stacks.statuses([created])

        self.assertEqual({'list': 1}, dict(self.fake.calls - before))
        self.assertEqual('CREATE_IN_PROGRESS', result[created.id].status)

    def test_statuses_fall_back_to_one_get_per_stack(self):
        first = self.create()
        second = self.create(name='port_second')
        self.fake.fail_next(1, status=500)
        before = self.fake.calls

        result = self.stacks.statuses([first, second])

        # The refused list is not retried: one GET per stack instead.
        self.assertEqual({'list': 1, 'show': 2},
                         dict(self.fake.calls - before))
        self.assertEqual({first.id, second.id}, set(result))

    def test_statuses_of_nothing(self):
        self.assertEqual({}, self.stacks.statuses([]))
        self.assertEqual(0, sum(self.fake.calls.values()))

    def test_statuses_one_get_per_stack_without_batching(self):
        self.config(batch_status_poll=False, group='heat')
        created = [self.create(name='port_%03d' % i) for i in range(3)]
        self.fake.finish('port_001')
        before = self.fake.calls

        result = self.stacks.statuses(created)

        self.assertEqual({'show': 3}, dict(self.fake.calls - before))
        self.assertEqual(
            ['CREATE_IN_PROGRESS', 'CREATE_COMPLETE', 'CREATE_IN_PROGRESS'],
            [result[s.id].status for s in created])

    def test_statuses_list_filters_by_id_with_deleted(self):
        created = self.create()
        seen = []
        real_list = self.stacks._client.stacks.list

        def spy(**kwargs):
            seen.append(kwargs)
            return real_list(**kwargs)

        self.useFixture(fixtures.MockPatchObject(
            self.stacks._client.stacks, 'list', side_effect=spy))

        self.stacks.statuses([created])

        self.assertEqual([{'filters': {'id': [created.id]},
                           'show_deleted': True}], seen)


class TestOutputs(StacksTestCase):

    def test_outputs(self):
        created = self.create()
        self.assertEqual([], self.stacks.outputs(created))
        self.fake.finish(NAME)

        self.assertEqual([
            {'output_key': 'port_id', 'output_value': NAME + '/port_id',
             'description': 'The port'},
            {'output_key': 'mac', 'output_value': NAME + '/mac',
             'description': 'No description given'},
        ], self.stacks.outputs(created))

    def test_outputs_as_policy_gives_them(self):
        outputs = [{'output_key': 'k', 'output_value': {'a': [1, 2]},
                    'description': 'd'}]
        self.fake.outcome = lambda op: heat_api.Outcome(outputs=outputs,
                                                        delay=float('inf'))
        created = self.create()
        self.fake.finish(created.id)

        self.assertEqual(outputs, self.stacks.outputs(created))

    def test_outputs_of_missing_stack(self):
        lost = stacks.StackStatus('c2a6a1c4-5d7a-4a5e-8a33-1d0f1b3f2e11',
                                  'port_lost', 'CREATE_COMPLETE')
        e = self.assertRaises(exception.HeatError, self.stacks.outputs, lost)
        self.assertIn('404', str(e))
        self.assertIn('port_lost', str(e))


class TestShow(StacksTestCase):

    def test_status_and_outputs_in_one_call(self):
        created = self.create()
        self.fake.finish(NAME)
        before = self.fake.calls

        status, outputs = self.stacks.show(created)

        self.assertEqual({'show': 1}, dict(self.fake.calls - before))
        self.assertEqual((created.id, NAME, 'CREATE_COMPLETE'),
                         (status.id, status.name, status.status))
        self.assertEqual(['port_id', 'mac'],
                         [o['output_key'] for o in outputs])

    def test_in_progress_again(self):
        created = self.create()
        self.fake.finish(NAME)
        self.update()

        status, outputs = self.stacks.show(created)

        self.assertEqual('UPDATE_IN_PROGRESS', status.status)
        self.assertEqual([], outputs)


class TestRetries(StacksTestCase):

    def test_transient_errors_retried(self):
        self.config(api_retries=3, group='heat')
        self.fake.fail_next(2)

        status = self.create()

        self.assertEqual('CREATE_IN_PROGRESS', status.status)
        self.assertEqual(3, self.fake.calls['create'])
        self.assertEqual(1, self.fake.creates_by_name[NAME])
        self.assertEqual(['CREATE'], self.actions())

    def test_transient_errors_of_each_kind_retried(self):
        self.config(api_retries=3, group='heat')
        self.fake.fail_next(1, 500)
        self.fake.fail_next(1, 502)
        self.fake.fail_next(1, 503)

        self.assertIsNone(self.stacks.find(NAME))

        self.assertEqual(4, self.fake.calls['lookup'])

    def test_retries_exhausted(self):
        self.config(api_retries=2, group='heat')
        self.fake.fail_next(3)

        e = self.assertRaises(exception.HeatError, self.create)

        self.assertIn('Failure injected by FakeHeat.', str(e))
        self.assertIn('503', str(e))
        self.assertIn(NAME, str(e))
        self.assertEqual(3, self.fake.calls['create'])
        self.assertEqual([], self.fake.operations)
        # The faults are used up: Heat answers again.
        self.assertEqual('CREATE_IN_PROGRESS', self.create().status)

    def test_no_retries(self):
        self.config(api_retries=0, group='heat')
        self.fake.fail_next(1)

        e = self.assertRaises(exception.HeatError, self.stacks.delete, NAME)

        self.assertIn('503', str(e))
        self.assertEqual(1, self.fake.calls['lookup'])

    def test_client_error_not_retried(self):
        self.config(api_retries=5, group='heat')
        self.fake.fail_next(1, 400)

        e = self.assertRaises(exception.HeatError, self.create)

        self.assertIn('Failure injected by FakeHeat.', str(e))
        self.assertIn('HTTP 400', str(e))
        self.assertEqual(1, self.fake.calls['create'])
