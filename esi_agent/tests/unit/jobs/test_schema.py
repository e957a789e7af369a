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

"""Unit tests of :mod:`esi_agent.jobs.schema` (SPEC section 3)."""

import copy
import json

from esi_agent import exception
from esi_agent.jobs import schema
from esi_agent.tests import base

PORT_ID = 'f84496b5-dc56-4727-87b1-aa06e2471737'
NETWORK_ID = 'b62eefe0-0872-478d-adfe-1a606320f0e7'
SUBNET_ID = 'cf9356ae-b4e1-4a91-8193-089fdc12173d'
SECRET = 'S3cr3t-Passw0rd'


def value(name, val):
    return {'param': name, 'type': 'value', 'value': val, 'resources': []}


def ref(name, resource_type, resource_id, output_key='id'):
    return {'param': name, 'type': 'output_key', 'resources': [],
            'value': {'output_key': output_key,
                      'resource_type': resource_type,
                      'resource_id': resource_id}}


def valid_job():
    """A job shaped like the ESI API's casts; params[5] is a list."""
    return {
        'id': 'create:heat_worker:port:%s:1:3xe01' % PORT_ID,
        'action': 'create',
        'handler': 'heat_worker',
        'resource_type': 'port',
        'resource_id': PORT_ID,
        'version': 1,
        'params': [
            value('tenant_id', 'c583ce78843344adbe5fd20f13620274'),
            value('name', 'port-1'),
            value('heat_timeout', '3'),
            ref('virtual_network', 'network', NETWORK_ID),
            value('admin_password', SECRET),
            {'param': 'jinja_subnets', 'type': 'list', 'resources': [],
             'value': [ref('jinja_subnets', 'subnet', SUBNET_ID)]},
        ],
        'dependency': ['create:heat_worker:network:%s:1:aaaaa'
                       % NETWORK_ID],
        'on_failure': 'fail',
        'resource_input': {'tenant_id': 'c583ce78843344adbe5fd20f13620274',
                           'name': 'port-1'},
        'job_name': 'port:%s:1' % PORT_ID,
        'is_first': True,
        'is_last': True,
    }


class TestValidJobs(base.TestCase):

    def test_valid_job_passes(self):
        self.assertIsNone(schema.validate(valid_job()))

    def test_minimal_job_passes(self):
        job = valid_job()
        for optional in ('dependency', 'on_failure', 'resource_input',
                         'job_name', 'is_first', 'is_last'):
            del job[optional]
        job['params'] = []
        schema.validate(job)

    def test_every_action_passes(self):
        for action in schema.ACTIONS:
            job = valid_job()
            job['action'] = action
            schema.validate(job)

    def test_nullable_informational_fields(self):
        job = valid_job()
        job.update(on_failure=None, job_name=None, is_first=None,
                   is_last=None)
        schema.validate(job)

    def test_heat_timeout_forms(self):
        for timeout in (1, 60, '3', ' 15 '):
            job = valid_job()
            job['params'][2]['value'] = timeout
            schema.validate(job)

    def test_value_params_take_any_json_value(self):
        job = valid_job()
        job['params'][1]['value'] = {'nested': [1, None, True]}
        schema.validate(job)

    def test_validate_does_not_change_the_job(self):
        job = valid_job()
        schema.validate(job)
        self.assertEqual(valid_job(), job)


class TestInvalidJobs(base.TestCase):

    def assertInvalid(self, job, *fragments):
        error = self.assertRaises(exception.InvalidJob, schema.validate, job)
        message = str(error)
        self.assertTrue(message.startswith('Invalid job: '), message)
        for fragment in fragments:
            self.assertIn(fragment, message)
        return message

    def _with(self, **changes):
        job = valid_job()
        job.update(changes)
        return job

    def _without(self, *fields):
        job = valid_job()
        for field in fields:
            del job[field]
        return job

    def test_invalid_job_is_a_job_error(self):
        # Its message goes to the state record like any other JobError.
        self.assertTrue(issubclass(exception.InvalidJob, exception.JobError))

    def test_not_an_object(self):
        for job, kind in (('job', 'string'), (None, 'null'),
                          ([], 'array'), (3, 'integer')):
            self.assertEqual('Invalid job: job: expected object, got %s'
                             % kind, self.assertInvalid(job))

    def test_missing_required_fields(self):
        for field in ('id', 'action', 'handler', 'resource_type',
                      'resource_id', 'version', 'params'):
            self.assertEqual(
                "Invalid job: job: missing required field '%s'" % field,
                self.assertInvalid(self._without(field)))

    def test_several_missing_fields_in_one_line(self):
        self.assertEqual(
            "Invalid job: job: missing required field 'id', 'params'",
            self.assertInvalid(self._without('params', 'id')))

    def test_missing_param_field(self):
        job = valid_job()
        del job['params'][1]['type']
        self.assertInvalid(job, "params[1]: missing required field 'type'")

    def test_missing_param_type_reports_only_that(self):
        job = valid_job()
        del job['params'][1]['type']
        self.assertEqual(
            "Invalid job: params[1]: missing required field 'type'",
            self.assertInvalid(job))

    def test_missing_param_name_reports_only_that(self):
        job = valid_job()
        del job['params'][1]['param']
        self.assertEqual(
            "Invalid job: params[1]: missing required field 'param'",
            self.assertInvalid(job))

    def test_missing_reference_field(self):
        job = valid_job()
        del job['params'][3]['value']['output_key']
        self.assertEqual("Invalid job: params[3].value: missing required "
                         "field 'output_key'", self.assertInvalid(job))

    def test_version(self):
        for version, reason in (
                (0, 'version: must be >= 1'),
                (-1, 'version: must be >= 1'),
                (True, 'version: expected integer, got boolean'),
                (False, 'version: expected integer, got boolean'),
                ('1', 'version: expected integer, got string'),
                (1.5, 'version: expected integer, got number'),
                (None, 'version: expected integer, got null'),
                # The version guard compares 20-digit strings.
                (2 ** 63, 'version: must be <= 9223372036854775807')):
            self.assertEqual('Invalid job: ' + reason,
                             self.assertInvalid(self._with(version=version)),
                             repr(version))

    def test_unknown_action(self):
        self.assertEqual(
            "Invalid job: action: must be one of 'create', 'modify', "
            "'logical_delete', 'delete'",
            self.assertInvalid(self._with(action='destroy')))

    def test_action_wrong_type(self):
        self.assertInvalid(self._with(action=['create']), 'action: ')

    def test_handler(self):
        self.assertEqual("Invalid job: handler: must be 'heat_worker'",
                         self.assertInvalid(self._with(handler='other')))

    def test_resource_id(self):
        for rid in ('', '../etc', 'a/b', '-lead', 'x' * 129, 'sp ace'):
            self.assertInvalid(self._with(resource_id=rid),
                               'resource_id: must match ')
        self.assertEqual('Invalid job: resource_id: expected string, got '
                         'integer',
                         self.assertInvalid(self._with(resource_id=12)))

    def test_resource_type(self):
        for rtype in ('Port', 'port/x', '', '1port', 'p' * 65):
            self.assertInvalid(self._with(resource_type=rtype),
                               'resource_type: must match ')

    def test_id(self):
        self.assertEqual('Invalid job: id: must not be empty',
                         self.assertInvalid(self._with(id='')))
        self.assertEqual('Invalid job: id: must have at most 512 '
                         'characters',
                         self.assertInvalid(self._with(id='x' * 513)))
        self.assertEqual('Invalid job: id: expected string, got integer',
                         self.assertInvalid(self._with(id=7)))

    def test_params_not_a_list(self):
        self.assertEqual('Invalid job: params: expected array, got object',
                         self.assertInvalid(self._with(params={})))

    def test_param_not_an_object(self):
        job = valid_job()
        job['params'][4] = 'admin_password'
        self.assertEqual('Invalid job: params[4]: expected object, got '
                         'string', self.assertInvalid(job))

    def test_param_type(self):
        job = valid_job()
        job['params'][2]['type'] = 'lookup'
        self.assertEqual("Invalid job: params[2].type: must be one of "
                         "'value', 'output_key', 'list'",
                         self.assertInvalid(job))

    def test_param_name(self):
        job = valid_job()
        job['params'][1]['param'] = ''
        self.assertEqual('Invalid job: params[1].param: must not be empty',
                         self.assertInvalid(job))
        job['params'][1]['param'] = 'n' * 256
        self.assertEqual('Invalid job: params[1].param: must have at most '
                         '255 characters', self.assertInvalid(job))

    def test_param_resources(self):
        job = valid_job()
        job['params'][1]['resources'] = 'port'
        self.assertEqual('Invalid job: params[1].resources: expected array, '
                         'got string', self.assertInvalid(job))

    def test_output_key_value_not_an_object(self):
        job = valid_job()
        job['params'][3]['value'] = NETWORK_ID
        self.assertEqual('Invalid job: params[3].value: expected object, '
                         'got string', self.assertInvalid(job))

    def test_output_key_reference_fields(self):
        job = valid_job()
        job['params'][3]['value']['resource_id'] = 'a/b'
        self.assertInvalid(job, 'params[3].value.resource_id: must match')
        job = valid_job()
        job['params'][3]['value']['output_key'] = ''
        self.assertEqual('Invalid job: params[3].value.output_key: must not '
                         'be empty', self.assertInvalid(job))

    def test_list_value_not_an_array(self):
        job = valid_job()
        job['params'][5]['value'] = 'subnet'
        self.assertEqual('Invalid job: params[5].value: expected array, got '
                         'string', self.assertInvalid(job))

    def test_nested_reference_path(self):
        job = valid_job()
        job['params'][5]['value'][0]['value']['resource_id'] = 'no/slash'
        self.assertInvalid(
            job, 'params[5].value[0].value.resource_id: must match')

    def test_nested_param_type(self):
        job = valid_job()
        job['params'][5]['value'][0]['type'] = 'lookup'
        self.assertInvalid(job, 'params[5].value[0].type: must be one of')

    def test_list_in_list(self):
        job = valid_job()
        job['params'][5]['value'].append(
            {'param': 'inner', 'type': 'list',
             'value': [{'param': 'deep', 'type': 'value'}]})
        self.assertEqual("Invalid job: params[5].value[1].value[0]: missing "
                         "required field 'value'", self.assertInvalid(job))

    def test_heat_timeout(self):
        for timeout, reason in (
                ('abc', r'must match ^\s*[0-9]+\s*$'),
                ('', r'must match ^\s*[0-9]+\s*$'),
                ('-3', r'must match ^\s*[0-9]+\s*$'),
                (0, 'must be >= 1'),
                (-5, 'must be >= 1'),
                (1.5, 'expected integer or string, got number'),
                (True, 'expected integer or string, got boolean'),
                (None, 'expected integer or string, got null'),
                ([3], 'expected integer or string, got array')):
            job = valid_job()
            job['params'][2]['value'] = timeout
            self.assertEqual('Invalid job: params[2].value: ' + reason,
                             self.assertInvalid(job), repr(timeout))

    def test_dependency(self):
        self.assertEqual('Invalid job: dependency: expected array, got '
                         'string',
                         self.assertInvalid(self._with(dependency='a')))
        self.assertEqual('Invalid job: dependency[0]: must not be empty; '
                         'dependency[1]: expected string, got integer',
                         self.assertInvalid(self._with(dependency=['', 1])))

    def test_optional_field_types(self):
        for field, bad, expected in (
                ('resource_input', [], 'expected object, got array'),
                ('on_failure', 1, 'expected string or null, got integer'),
                ('job_name', {}, 'expected string or null, got object'),
                ('is_first', 'yes', 'expected boolean or null, got string'),
                ('is_last', 0, 'expected boolean or null, got integer')):
            self.assertEqual(
                'Invalid job: %s: %s' % (field, expected),
                self.assertInvalid(self._with(**{field: bad})), field)

    def test_most_specific_error_first(self):
        job = self._with(version=0)
        job['params'][5]['value'][0]['value']['resource_type'] = 'Bad'
        message = self.assertInvalid(job)
        nested = message.index('params[5].value[0].value.resource_type')
        self.assertLess(nested, message.index('version: must be >= 1'))
        self.assertEqual(1, message.count('; '))

    def test_at_most_five_errors(self):
        job = valid_job()
        job['params'] = ['p%d' % i for i in range(8)]
        message = self.assertInvalid(job)
        reasons = message[len('Invalid job: '):].split('; ')
        self.assertEqual(['params[%d]: expected object, got string' % i
                          for i in range(5)], reasons)


class TestSecretsNotEchoed(base.TestCase):
    """A job's values may be passwords: messages never repeat them."""

    def assertNoSecret(self, job, *fragments):
        error = self.assertRaises(exception.InvalidJob, schema.validate, job)
        self.assertNotIn(SECRET, str(error))
        self.assertNotIn(SECRET, repr(error.kwargs))
        for fragment in fragments:
            self.assertIn(fragment, str(error))

    def test_password_as_output_key(self):
        job = valid_job()
        job['params'][4]['type'] = 'output_key'
        self.assertNoSecret(job, 'params[4].value: expected object, got '
                                 'string')

    def test_password_as_list(self):
        job = valid_job()
        job['params'][4]['type'] = 'list'
        self.assertNoSecret(job, 'params[4].value: expected array, got '
                                 'string')

    def test_password_in_reference_fields(self):
        job = valid_job()
        job['params'][4] = {'param': 'admin_password', 'type': 'output_key',
                            'value': {'output_key': SECRET,
                                      'resource_type': SECRET,
                                      'resource_id': SECRET + '/x'}}
        self.assertNoSecret(job, 'params[4].value.resource_type: must match',
                            'params[4].value.resource_id: must match')

    def test_password_in_wrong_param_type(self):
        job = valid_job()
        job['params'][4]['type'] = SECRET
        self.assertNoSecret(job, 'params[4].type: must be one of')

    def test_password_in_resource_input(self):
        job = valid_job()
        job['resource_input'] = SECRET
        self.assertNoSecret(job, 'resource_input: expected object')

    def test_password_as_wrong_top_level_values(self):
        job = valid_job()
        job.update(action=SECRET, handler=SECRET, version=SECRET,
                   resource_id=SECRET + '/', resource_type=SECRET,
                   job_name=[SECRET])
        self.assertNoSecret(job)

    def test_long_secret_param_name(self):
        job = valid_job()
        job['params'][4]['param'] = SECRET * 20
        self.assertNoSecret(job, 'params[4].param: must have at most')


class TestIdentity(base.TestCase):

    def test_valid(self):
        self.assertEqual(('port', PORT_ID), schema.identity(valid_job()))

    def test_invalid_job_with_usable_identity(self):
        job = {'resource_type': 'port', 'resource_id': PORT_ID,
               'version': 'x'}
        self.assertEqual(('port', PORT_ID), schema.identity(job))

    def test_not_a_dict(self):
        for job in (None, 'port', ['port', PORT_ID]):
            self.assertIsNone(schema.identity(job))

    def test_missing_or_unusable_parts(self):
        for changes in ({'resource_type': None}, {'resource_id': None},
                        {'resource_type': 'Port'}, {'resource_id': '../x'},
                        {'resource_id': 12}, {'resource_type': ['port']}):
            job = copy.deepcopy(valid_job())
            job.update(changes)
            self.assertIsNone(schema.identity(job), repr(changes))
        job = valid_job()
        del job['resource_id']
        self.assertIsNone(schema.identity(job))


class TestEncode(base.TestCase):
    """Strict UTF-8 JSON: what etcd and the readers of records hold."""

    def assertUnencodable(self, job, reason):
        error = self.assertRaises(exception.InvalidJob, schema.encode, job)
        self.assertEqual('Invalid job: ' + reason, str(error))

    def test_valid_job(self):
        job = valid_job()
        job['resource_input']['name'] = '\u202eport\u200b\x00'
        self.assertEqual(job, json.loads(schema.encode(job)))

    def test_lone_surrogate_named_not_echoed(self):
        job = valid_job()
        job['params'][4]['value'] = SECRET + '\ud800'
        self.assertUnencodable(
            job, 'params[4].value: text with a lone surrogate (U+D800 at '
            'index 15) is not valid Unicode and cannot be stored as UTF-8 '
            'JSON')

    def test_lone_surrogate_in_a_key(self):
        job = valid_job()
        job['resource_input']['a\udfffb'] = 1
        self.assertUnencodable(
            job, 'resource_input.a\\udfffb: text with a lone surrogate '
            '(U+DFFF at index 1) is not valid Unicode and cannot be stored '
            'as UTF-8 JSON')

    def test_not_a_number(self):
        job = valid_job()
        job['resource_input']['mtu'] = float('nan')
        self.assertUnencodable(job,
                               'resource_input.mtu: NaN is not a JSON number')
        job['resource_input']['mtu'] = float('-inf')
        self.assertUnencodable(
            job, 'resource_input.mtu: Infinity is not a JSON number')

    def test_not_json(self):
        job = valid_job()
        job['params'][1]['value'] = {'a', 'b'}
        self.assertUnencodable(job, 'params[1].value: a set is not a JSON '
                                    'value')

    def test_sanitised(self):
        job = {'id': 'x\ud800', 'v': [float('nan'), 1.5, {'b'}, object()],
               'k\udfff': True}
        self.assertEqual({'id': 'x?', 'v': [None, 1.5, ['b'], None],
                          'k?': True}, schema.sanitised(job))
