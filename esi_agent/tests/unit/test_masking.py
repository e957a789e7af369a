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
import logging

import fixtures

from esi_agent.common import masking
from esi_agent.tests import base

BODY = {
    'stack_name': 'network_1',
    'template': 'resources:\n  r:\n    properties: {x: hunter2}\n',
    'parameters': {
        'admin_password': 'hunter3',
        'credentials': {'username': 'bob-the-secret', 'domain': 'd'},
        'api_token': 'tok-123',
        'name': 'visible',
    },
}


class TestMaskLine(base.TestCase):

    def assertHidden(self, line, *secrets):
        for secret in secrets:
            self.assertNotIn(secret, line)

    def test_request_body(self):
        line = masking.mask_line(
            'REQ: curl -g -i -X POST http://h/v1/stacks -H "A: b" -d \'%s\''
            % json.dumps(BODY))
        self.assertHidden(line, 'hunter2', 'hunter3', 'bob-the-secret',
                          'tok-123')
        self.assertTrue(line.startswith('REQ: curl -g -i -X POST'))
        body = json.loads(line[line.index(" -d '") + 5:-1])
        self.assertEqual('visible', body['parameters']['name'])
        self.assertEqual('network_1', body['stack_name'])
        self.assertIn('template omitted', body['template'])

    def test_response_body(self):
        line = masking.mask_line('RESP BODY: ' + json.dumps(
            {'stack': {'parameters': {'db_password': 'pw-42'},
                       'outputs': [{'output_key': 'private_key',
                                    'output_value': 'PEM-xyz'}]}}))
        self.assertHidden(line, 'pw-42')
        self.assertTrue(line.startswith('RESP BODY: {'))

    def test_text_that_is_not_json(self):
        line = masking.mask_line("REQ: curl -d 'password=hunter4 x=1'")
        self.assertHidden(line, 'hunter4')
        self.assertIn('x=1', line)

    def test_line_without_body_unchanged(self):
        line = 'RESP: [200] Content-Type: application/json'
        self.assertEqual(line, masking.mask_line(line))


class TestFilter(base.TestCase):

    def test_installed_on_keystoneauth_loggers(self):
        logs = self.useFixture(fixtures.FakeLogger(
            name='keystoneauth.session', level=logging.DEBUG,
            format='%(message)s'))
        masking.install()
        masking.install()
        logger = logging.getLogger('keystoneauth.session')
        self.assertEqual(1, logger.filters.count(masking._FILTER))
        logger.debug('REQ: curl -X POST %s -d \'%s\'', 'http://h',
                     json.dumps(BODY))
        self.assertIn('REQ: curl -X POST http://h', logs.output)
        self.assertNotIn('hunter3', logs.output)
        self.assertNotIn('bob-the-secret', logs.output)
