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

"""Unit tests of the secret masking helpers of :mod:`esi_agent.exception`."""

from esi_agent import exception
from esi_agent.tests import base

VALUE = {'name': 'n', 'admin_password': 'pw1', 'api_key': 7,
         'credentials': {'username': 'u', 'nested': ['pw2']},
         'list': [{'Token': 'pw3'}, 'plain'], 'secret_none': None}


class TestSecrets(base.TestCase):

    def test_is_secret(self):
        for name in ('password', 'primary_device_password', 'SECRET_x',
                     'auth_token', 'ssh_key', 'credentials'):
            self.assertTrue(exception.is_secret(name), name)
        for name in ('name', 'tenant_id', None, 5):
            self.assertFalse(exception.is_secret(name), name)

    def test_mask_secrets(self):
        self.assertEqual(
            {'name': 'n', 'admin_password': '***', 'api_key': '***',
             'credentials': {'username': '***', 'nested': ['***']},
             'list': [{'Token': '***'}, 'plain'], 'secret_none': None},
            exception.mask_secrets(VALUE))
        self.assertEqual('x', exception.mask_secrets('x'))

    def test_secret_strings(self):
        self.assertEqual({'pw1', 'u', 'pw2', 'pw3'},
                         exception.secret_strings(VALUE))

    def test_scrub(self):
        self.assertEqual("'***' and '***' but not 'pw'",
                         exception.scrub("'s3cret' and 's3cret-2' but not "
                                         "'pw'", {'s3cret', 's3cret-2',
                                                  'pw'}))
