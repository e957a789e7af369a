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


import json
import os

import fixtures

from esi_agent import exception
from esi_agent.render import mapping
from esi_agent.tests import base

PORT_RULE = {
    'if_mapping': {'regexp': [{'field': 'device_owner'},
                              {'constant': 'network:dhcp|network:empty'}]},
    'then_mapping': {'constant': None},
    'else_mapping': {'constant': 'port'},
}

MAPPINGS = {
    'network': 'Cnetwork',
    'firewall': 'Cfirewall_config',
    'ese_device': 'ACese_device_&Pexisting',
    'named': 'Pname',
    'port': PORT_RULE,
}


class TestLoadMappings(base.TestCase):

    def setUp(self):
        super().setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path

    def _write(self, text):
        path = os.path.join(self.dir, 'mappings.json')
        with open(path, 'w', encoding='utf-8') as f:
            f.write(text)
        return path

    def test_none(self):
        self.assertEqual({}, mapping.load_mappings(None))

    def test_heat_worker_mappings(self):
        path = self._write(json.dumps({'heat_worker': MAPPINGS,
                                       'other_worker': {'x': 'Cy'}}))
        self.assertEqual(MAPPINGS, mapping.load_mappings(path))

    def test_missing_file(self):
        path = os.path.join(self.dir, 'missing.json')
        error = self.assertRaises(ValueError, mapping.load_mappings, path)
        self.assertIn('Cannot load the template mapping file %s: ' % path,
                      str(error))
        self.assertIn('No such file or directory', str(error))

    def test_invalid_json(self):
        path = self._write('{"heat_worker": ')
        error = self.assertRaises(ValueError, mapping.load_mappings, path)
        self.assertIn('Cannot load the template mapping file %s: ' % path,
                      str(error))

    def test_no_heat_worker_key(self):
        for text in ('{}', '[]', '{"heat_worker": "Cnetwork"}'):
            path = self._write(text)
            error = self.assertRaises(ValueError, mapping.load_mappings,
                                      path)
            self.assertEqual('The template mapping file %s has no '
                             '"heat_worker" object' % path, str(error))


class TestTemplateId(base.TestCase):

    def _template_id(self, rule, **resource_input):
        return mapping.template_id({'thing': rule}, 'thing', resource_input)

    def _error(self, rule, **resource_input):
        error = self.assertRaises(exception.TemplateMappingError,
                                  self._template_id, rule, **resource_input)
        return str(error)

    def test_no_entry_is_the_resource_type(self):
        self.assertEqual('subnet',
                         mapping.template_id(MAPPINGS, 'subnet', {}))

    def test_no_mappings(self):
        self.assertEqual('subnet', mapping.template_id({}, 'subnet', {}))

    def test_constant(self):
        self.assertEqual('firewall_config',
                         mapping.template_id(MAPPINGS, 'firewall', {}))

    def test_field(self):
        self.assertEqual('special', self._template_id('Pname',
                                                      name='special'))

    def test_concatenation(self):
        self.assertEqual(
            'ese_device_existing',
            mapping.template_id(MAPPINGS, 'ese_device',
                                {'existing': 'existing'}))

    def test_concatenation_of_several_parts(self):
        self.assertEqual('a_b_c', self._template_id('ACa_&Pb&C_&Pc',
                                                    b='b', c='c'))

    def test_empty_constant(self):
        self.assertEqual('', self._template_id('C'))

    def test_constant_object(self):
        self.assertEqual('network', self._template_id({'constant':
                                                       'network'}))

    def test_null_constant_means_no_stack(self):
        self.assertIsNone(self._template_id({'constant': None}))

    def test_field_object(self):
        self.assertEqual('lb', self._template_id({'field': 'kind'},
                                                 kind='lb'))

    def test_regexp_matches(self):
        for owner in ('network:dhcp', 'network:empty', 'network:dhcp:x'):
            self.assertIsNone(mapping.template_id(
                MAPPINGS, 'port', {'device_owner': owner}), owner)

    def test_regexp_does_not_match(self):
        for owner in ('', 'compute:nova', 'my network:dhcp'):
            self.assertEqual('port', mapping.template_id(
                MAPPINGS, 'port', {'device_owner': owner}), owner)

    def test_regexp_anchored_at_the_end(self):
        rule = dict(PORT_RULE, if_mapping={'regexp': ['Powner',
                                                      'Cnetwork:dhcp$']})
        self.assertEqual('port', self._template_id(rule,
                                                   owner='network:dhcp:x'))
        self.assertIsNone(self._template_id(rule, owner='network:dhcp'))

    def test_equal(self):
        rule = {'if_mapping': {'equal': [{'field': 'existing'},
                                         {'constant': 'existing'}]},
                'then_mapping': 'Cdevice_existing',
                'else_mapping': 'ACdevice_&Pexisting'}
        self.assertEqual('device_existing',
                         self._template_id(rule, existing='existing'))
        self.assertEqual('device_new', self._template_id(rule,
                                                         existing='new'))

    def test_equal_compares_any_value(self):
        rule = {'if_mapping': {'equal': [{'field': 'vlan'},
                                         {'constant': 10}]},
                'then_mapping': 'Cten', 'else_mapping': 'Cother'}
        self.assertEqual('ten', self._template_id(rule, vlan=10))
        self.assertEqual('other', self._template_id(rule, vlan='10'))

    def test_nested_conditions(self):
        rule = {'if_mapping': {'equal': ['Pa', 'Cx']},
                'then_mapping': {'if_mapping': {'equal': ['Pb', 'Cy']},
                                 'then_mapping': 'Cxy',
                                 'else_mapping': 'Cx'},
                'else_mapping': 'Cnone'}
        self.assertEqual('xy', self._template_id(rule, a='x', b='y'))
        self.assertEqual('x', self._template_id(rule, a='x', b='z'))

    def test_missing_field(self):
        self.assertEqual('Cannot choose the template of thing: '
                         "resource_input has no field 'existing'",
                         self._error('ACese_device_&Pexisting'))

    def test_missing_field_in_a_condition_does_not_match(self):
        self.assertEqual('port', mapping.template_id(MAPPINGS, 'port', {}))

    def test_concatenation_of_a_null_field(self):
        self.assertEqual('Cannot choose the template of thing: cannot '
                         'concatenate Pexisting: its value None is not a '
                         'string',
                         self._error('ACese_device_&Pexisting',
                                     existing=None))

    def test_concatenation_of_a_number(self):
        self.assertEqual('Cannot choose the template of thing: cannot '
                         'concatenate Pvlan: its value 10 is not a string',
                         self._error('ACvlan_&Pvlan', vlan=10))

    def test_unknown_concatenation_part(self):
        self.assertEqual("Cannot choose the template of thing: unknown "
                         "part 'Xb' of a concatenation (it must start with "
                         "C or P)", self._error('ACa&Xb'))

    def test_empty_concatenation_part(self):
        self.assertEqual("Cannot choose the template of thing: unknown "
                         "part '' of a concatenation (it must start with "
                         "C or P)", self._error('ACa&'))

    def test_unknown_string_rule(self):
        for rule in ('network', '', 'F:x'):
            self.assertEqual("Cannot choose the template of thing: unknown "
                             "mapping %r (it must start with C, P or A)"
                             % rule, self._error(rule))

    def test_unknown_rule(self):
        for rule in ({'value': 'x'}, 42, ['Cx'], None):
            self.assertEqual('Cannot choose the template of thing: unknown '
                             'mapping %r' % (rule,), self._error(rule))

    def test_template_id_not_a_string(self):
        self.assertEqual('Cannot choose the template of thing: the '
                         'template id 10 is not a string',
                         self._error('Pvlan', vlan=10))

    def test_secrets_in_a_quoted_value_are_masked(self):
        self.assertEqual("Cannot choose the template of thing: the template "
                         "id {'user': 'u', 'password': '***'} is not a "
                         "string", self._error('Pcreds', creds={
                             'user': 'u', 'password': 's3cr3t'}))
        self.assertEqual("Cannot choose the template of thing: cannot "
                         "concatenate Pcreds: its value [{'token': '***'}] "
                         "is not a string",
                         self._error('ACx&Pcreds', creds=[{'token': 't0k'}]))

    def test_bad_regexp(self):
        rule = dict(PORT_RULE, if_mapping={'regexp': ['Pname', 'C(']})
        self.assertIn("Cannot choose the template of thing: invalid regexp "
                      "'(': missing ), unterminated subpattern",
                      self._error(rule, name='x'))

    def test_regexp_of_a_null_field_does_not_match(self):
        self.assertEqual('port', mapping.template_id(
            MAPPINGS, 'port', {'device_owner': None}))

    def test_regexp_of_a_non_string(self):
        self.assertEqual("Cannot choose the template of thing: regexp needs "
                         "a string and a pattern, not 3 and "
                         "'network:dhcp|network:empty'",
                         self._error(PORT_RULE, device_owner=3))

    def test_unknown_test(self):
        for condition in ({'match': ['Pa', 'Cb']}, {'equal': ['Pa']},
                          {'equal': 'Pa'}, {}, 'Pa',
                          {'equal': ['Pa', 'Cb'], 'regexp': ['Pa', 'Cb']}):
            rule = dict(PORT_RULE, if_mapping=condition)
            self.assertEqual('Cannot choose the template of thing: unknown '
                             'if_mapping %r (expected {"equal" or '
                             '"regexp": [a, b]})' % (condition,),
                             self._error(rule, a='a'))

    def test_missing_branch(self):
        for branch in ('then_mapping', 'else_mapping'):
            rule = dict(PORT_RULE)
            del rule[branch]
            self.assertEqual('Cannot choose the template of thing: the '
                             'if_mapping rule has no %s' % branch,
                             self._error(rule, device_owner='x'))
