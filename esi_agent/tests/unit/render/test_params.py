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


from esi_agent import exception
from esi_agent.render import params
from esi_agent.tests import base

NETWORK_ID = '3f1a4c6e-0000-4000-8000-000000000001'
SUBNET_ID = '3f1a4c6e-0000-4000-8000-000000000002'

OUTPUTS = {
    ('network', NETWORK_ID): [
        {'output_key': 'id', 'output_value': 'net-uuid',
         'description': 'The network'},
        {'output_key': 'fq_name', 'output_value': ['domain', 'net'],
         'description': 'Its FQ name'},
    ],
    ('subnet', SUBNET_ID): [
        {'output_key': 'id', 'output_value': 'subnet-uuid',
         'description': 'The subnet'},
    ],
}


def lookup_outputs(resource_type, resource_id):
    return OUTPUTS.get((resource_type, resource_id))


def value(name, val):
    return {'param': name, 'type': 'value', 'value': val, 'resources': []}


def ref(name, resource_type, resource_id, output_key='id'):
    return {'param': name, 'type': 'output_key', 'resources': [],
            'value': {'output_key': output_key,
                      'resource_type': resource_type,
                      'resource_id': resource_id}}


def listing(name, *items):
    return {'param': name, 'type': 'list', 'value': list(items),
            'resources': []}


def job(*param_list, **resource_input):
    return {'id': 'create:heat_worker:port:p1:1:abcde',
            'resource_type': 'port', 'resource_id': 'p1',
            'params': list(param_list), 'resource_input': resource_input}


class TestOutputRefs(base.TestCase):

    def test_no_params(self):
        self.assertEqual([], params.output_refs([]))

    def test_value_params_are_not_references(self):
        self.assertEqual([], params.output_refs([value('name', 'x')]))

    def test_references_in_order_without_duplicates(self):
        refs = params.output_refs([
            ref('subnet_id', 'subnet', SUBNET_ID),
            value('name', 'x'),
            ref('network_id', 'network', NETWORK_ID),
            ref('network_name', 'network', NETWORK_ID, 'fq_name'),
        ])
        self.assertEqual([('subnet', SUBNET_ID), ('network', NETWORK_ID)],
                         refs)

    def test_references_inside_lists(self):
        refs = params.output_refs([
            listing('jinja_subnets',
                    ref('jinja_subnets', 'subnet', SUBNET_ID),
                    listing('nested',
                            ref('nested', 'network', NETWORK_ID))),
            ref('subnet_id', 'subnet', SUBNET_ID),
        ])
        self.assertEqual([('subnet', SUBNET_ID), ('network', NETWORK_ID)],
                         refs)

    def test_malformed_reference(self):
        param = {'param': 'network_id', 'type': 'output_key',
                 'value': {'output_key': 'id'}}
        error = self.assertRaises(exception.ParamResolutionError,
                                  params.output_refs, [param])
        self.assertIn('Cannot resolve param network_id: an output_key value '
                      'must be an object with output_key, resource_type and '
                      'resource_id', str(error))


class TestResolve(base.TestCase):

    def test_empty(self):
        resolved = params.resolve(job(), lookup_outputs)
        self.assertEqual(params.ResolvedParams({}, {}, None, None),
                         resolved)

    def test_value_params_are_heat_parameters_as_is(self):
        resolved = params.resolve(job(
            value('name', 'port1'), value('admin_state_up', True),
            value('version', 2), value('description', None),
            value('allowed_address_pairs', [{'ip_address': '10.0.0.1'}]),
        ), lookup_outputs)
        self.assertEqual({'name': 'port1', 'admin_state_up': True,
                          'version': 2, 'description': None,
                          'allowed_address_pairs': [
                              {'ip_address': '10.0.0.1'}]},
                         resolved.heat_parameters)
        self.assertEqual({}, resolved.jinja_parameters)

    def test_jinja_params_keep_their_full_name(self):
        resolved = params.resolve(job(
            value('jinja_fixed_ips', [{'ip_address': '10.0.0.2'}]),
            value('name', 'port1'),
        ), lookup_outputs)
        self.assertEqual({'jinja_fixed_ips': [{'ip_address': '10.0.0.2'}]},
                         resolved.jinja_parameters)
        self.assertEqual({'name': 'port1'}, resolved.heat_parameters)

    def test_output_key(self):
        resolved = params.resolve(job(
            ref('virtual_network', 'network', NETWORK_ID),
            ref('jinja_fq_name', 'network', NETWORK_ID, 'fq_name'),
        ), lookup_outputs)
        self.assertEqual({'virtual_network': 'net-uuid'},
                         resolved.heat_parameters)
        self.assertEqual({'jinja_fq_name': ['domain', 'net']},
                         resolved.jinja_parameters)

    def test_list(self):
        resolved = params.resolve(job(
            listing('jinja_subnets',
                    ref('jinja_subnets', 'subnet', SUBNET_ID),
                    value('jinja_subnets', 'literal'),
                    listing('jinja_subnets',
                            ref('jinja_subnets', 'network', NETWORK_ID))),
            listing('security_groups'),
        ), lookup_outputs)
        self.assertEqual(
            {'jinja_subnets': ['subnet-uuid', 'literal', ['net-uuid']]},
            resolved.jinja_parameters)
        self.assertEqual({'security_groups': []}, resolved.heat_parameters)

    def test_unknown_param_type(self):
        param = {'param': 'name', 'type': 'function', 'value': 'x'}
        error = self.assertRaises(exception.ParamResolutionError,
                                  params.resolve, job(param), lookup_outputs)
        self.assertEqual("Cannot resolve param name: unknown param type "
                         "'function' (expected value, output_key or list)",
                         str(error))

    def test_unknown_param_type_in_list_names_its_position(self):
        param = listing('ids', value('ids', 'a'),
                        {'param': 'ids', 'type': None, 'value': 'b'})
        error = self.assertRaises(exception.ParamResolutionError,
                                  params.resolve, job(param), lookup_outputs)
        self.assertEqual("Cannot resolve param ids[1]: unknown param type "
                         "None (expected value, output_key or list)",
                         str(error))

    def test_missing_output_key_lists_the_available_ones(self):
        param = ref('network_name', 'network', NETWORK_ID, 'name')
        error = self.assertRaises(exception.ParamResolutionError,
                                  params.resolve, job(param), lookup_outputs)
        self.assertEqual("Cannot resolve param network_name: network %s has "
                         "no output 'name' (its outputs: id, fq_name)"
                         % NETWORK_ID, str(error))

    def test_missing_output_key_when_there_are_no_outputs(self):
        param = listing('jinja_ids', ref('jinja_ids', 'port', 'p2'))
        error = self.assertRaises(exception.ParamResolutionError,
                                  params.resolve, job(param),
                                  lambda resource_type, resource_id: [])
        self.assertEqual("Cannot resolve param jinja_ids[0]: port p2 has no "
                         "output 'id' (its outputs: none)", str(error))

    def test_referenced_resource_without_records(self):
        param = ref('virtual_network', 'network', 'unknown')
        error = self.assertRaises(exception.ParamResolutionError,
                                  params.resolve, job(param), lookup_outputs)
        self.assertEqual('Cannot resolve param virtual_network: network '
                         'unknown has no heat outputs (no job_state record)',
                         str(error))

    def test_lookup_errors_propagate(self):
        def lookup(resource_type, resource_id):
            raise exception.ParamResolutionError(param='x', reason='gone')

        self.assertRaises(exception.ParamResolutionError, params.resolve,
                          job(ref('virtual_network', 'network', NETWORK_ID)),
                          lookup)

    def test_lookup_is_called_with_the_reference(self):
        calls = []

        def lookup(resource_type, resource_id):
            calls.append((resource_type, resource_id))
            return OUTPUTS[('subnet', SUBNET_ID)]

        params.resolve(job(ref('subnet_id', 'subnet', SUBNET_ID)), lookup)
        self.assertEqual([('subnet', SUBNET_ID)], calls)

    def test_malformed_reference(self):
        param = {'param': 'network_id', 'type': 'output_key',
                 'value': 'network'}
        error = self.assertRaises(exception.ParamResolutionError,
                                  params.resolve, job(param), lookup_outputs)
        self.assertEqual("Cannot resolve param network_id: an output_key "
                         "value must be an object with output_key, "
                         "resource_type and resource_id, not 'network'",
                         str(error))


class TestTimeout(base.TestCase):

    def _timeout(self, val):
        return params.resolve(job(value('heat_timeout', val)),
                              lookup_outputs).timeout_mins

    def test_string(self):
        self.assertEqual(6, self._timeout('6'))

    def test_int(self):
        self.assertEqual(10, self._timeout(10))

    def test_not_a_heat_parameter(self):
        resolved = params.resolve(job(value('heat_timeout', '3')),
                                  lookup_outputs)
        self.assertEqual({}, resolved.heat_parameters)
        self.assertEqual({}, resolved.jinja_parameters)

    def test_from_an_output(self):
        outputs = [{'output_key': 'timeout', 'output_value': '13'}]
        resolved = params.resolve(
            job(ref('heat_timeout', 'network', NETWORK_ID, 'timeout')),
            lambda resource_type, resource_id: outputs)
        self.assertEqual(13, resolved.timeout_mins)

    def test_invalid(self):
        for val, shown in (('six', "'six'"), ('6.5', "'6.5'"), (6.0, '6.0'),
                           ('', "''"), ('0', "'0'"), (-1, '-1'),
                           (True, 'True'), (None, 'None'), ([6], '[6]')):
            error = self.assertRaises(exception.ParamResolutionError,
                                      self._timeout, val)
            self.assertEqual('Cannot resolve param heat_timeout: %s is not '
                             'a positive whole number of minutes' % shown,
                             str(error))


class TestTenantId(base.TestCase):

    def test_from_the_tenant_id_param(self):
        resolved = params.resolve(
            job(value('tenant_id', 'from-param'), tenant_id='from-input'),
            lookup_outputs)
        self.assertEqual('from-param', resolved.tenant_id)
        self.assertEqual({'tenant_id': 'from-param'},
                         resolved.heat_parameters)

    def test_from_resource_input(self):
        resolved = params.resolve(job(tenant_id='from-input'),
                                  lookup_outputs)
        self.assertEqual('from-input', resolved.tenant_id)
        self.assertEqual({}, resolved.heat_parameters)

    def test_empty_param_falls_back_to_resource_input(self):
        resolved = params.resolve(
            job(value('tenant_id', ''), tenant_id='from-input'),
            lookup_outputs)
        self.assertEqual('from-input', resolved.tenant_id)

    def test_none(self):
        resolved = params.resolve({'params': []}, lookup_outputs)
        self.assertIsNone(resolved.tenant_id)
