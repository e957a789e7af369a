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

"""The HTTP session under the Heat client: the environment read once."""

import base64
from unittest import mock

import fixtures
import requests

from esi_agent.heat import client
from esi_agent.tests import base

CONF = base.CONF

HEAT = 'http://heat.example.org:8004/v1/admin/stacks'
LOCAL = 'http://127.0.0.1:8004/v1/admin/stacks'


class TestEnvironmentOnceSession(base.TestCase):

    def setUp(self):
        super().setUp()
        for name in ('http_proxy', 'HTTP_PROXY', 'https_proxy',
                     'HTTPS_PROXY', 'no_proxy', 'NO_PROXY', 'all_proxy',
                     'ALL_PROXY', 'REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE'):
            self.useFixture(fixtures.EnvironmentVariable(name))
        self.useFixture(fixtures.EnvironmentVariable(
            'http_proxy', 'http://proxy.example.org:3128'))
        self.useFixture(fixtures.EnvironmentVariable(
            'no_proxy', '127.0.0.1,localhost'))
        self.useFixture(fixtures.EnvironmentVariable(
            'REQUESTS_CA_BUNDLE', '/etc/ssl/bundle.pem'))
        self.session = client.EnvironmentOnceSession()

    def test_same_settings_as_requests(self):
        plain = requests.Session()
        for url in (HEAT, LOCAL, 'https://heat.example.org/v1'):
            for verify in (True, None, False, '/etc/heat-ca.pem'):
                args = (url, {}, False, verify, None)
                self.assertEqual(plain.merge_environment_settings(*args),
                                 self.session.merge_environment_settings(
                                     *args), (url, verify))
                # Twice: the second answer is the one kept.
                self.assertEqual(plain.merge_environment_settings(*args),
                                 self.session.merge_environment_settings(
                                     *args), (url, verify))

    def test_environment_read_once_per_host(self):
        with mock.patch('requests.sessions.get_environ_proxies',
                        return_value={}) as environ:
            for _ in range(3):
                self.session.merge_environment_settings(
                    HEAT, {}, False, True, None)
            self.session.merge_environment_settings(
                LOCAL, {}, False, True, None)
        self.assertEqual(2, environ.call_count)

    def test_kept_proxies_are_not_shared(self):
        settings = self.session.merge_environment_settings(
            HEAT, {}, False, True, None)
        settings['proxies']['http'] = 'http://changed'
        again = self.session.merge_environment_settings(
            HEAT, {}, False, True, None)
        self.assertEqual('http://proxy.example.org:3128',
                         again['proxies']['http'])

    def _prepare(self, url):
        return self.session.prepare_request(requests.Request('GET', url))

    def test_netrc_read_once_per_host(self):
        with mock.patch('requests.utils.get_netrc_auth',
                        return_value=('user', 'secret')) as netrc:
            first = self._prepare(HEAT)
            second = self._prepare(HEAT)
        self.assertEqual(1, netrc.call_count)
        expected = 'Basic ' + base64.b64encode(b'user:secret').decode()
        self.assertEqual(expected, first.headers['Authorization'])
        self.assertEqual(expected, second.headers['Authorization'])

    def test_no_netrc_entry(self):
        with mock.patch('requests.utils.get_netrc_auth',
                        return_value=None) as netrc:
            prepared = self._prepare(HEAT)
            self._prepare(HEAT)
        self.assertEqual(1, netrc.call_count)
        self.assertNotIn('Authorization', prepared.headers)

    def test_credentials_in_the_url_left_to_requests(self):
        with mock.patch('requests.utils.get_netrc_auth') as netrc:
            prepared = self._prepare('http://u:p@heat.example.org/v1')
        netrc.assert_not_called()
        self.assertEqual('Basic ' + base64.b64encode(b'u:p').decode(),
                         prepared.headers['Authorization'])

    def test_without_trust_env(self):
        self.session.trust_env = False
        with mock.patch('requests.utils.get_netrc_auth') as netrc:
            self._prepare(HEAT)
        netrc.assert_not_called()
        self.assertEqual({}, self.session.merge_environment_settings(
            HEAT, {}, False, True, None)['proxies'])

    def test_heat_client_uses_it(self):
        self.config(auth_type='none', endpoint_override=HEAT, group='heat')
        heat = client.get_client(CONF)
        self.assertIsInstance(heat.http_client.session.session,
                              client.EnvironmentOnceSession)
