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
"""Secrets stay out of the logs.

The 77 production jobs run through an agent (real RabbitMQ and etcd, the
Heat stand-in replaying production outcomes, Keystone password auth against
a Keystone stand-in) with every logger at DEBUG, the libraries' included.
Every secret of the jobs (a string under a param or a resource_input key
whose name says password, secret, token, key or credential, at any depth)
is first replaced by a unique marker, so that a leak is found wherever it
is, and whatever the secret's value (one of production's is "password").
The [heat] password and the Keystone token are markers too.

One leak is known and is not the agent's own code: keystoneauth1 logs the
body of each Heat API request and response (stack parameters included) at
DEBUG. It is asserted apart, as an expected failure, so that the test
fails (unexpected success) once the Heat session of
``esi_agent/heat/client.py`` masks it.

Then: malformed jobs carrying passwords are refused without the password
reaching the log or the state record; and the secret options are masked
when the configuration is logged.
"""

import base64
import copy
import http.server
import json
import logging
import os
import threading
import uuid

import fixtures
from keystoneauth1 import loading as ks_loading

from esi_agent import conf as esi_conf
from esi_agent import records
from esi_agent.tests.conformance import test_jobs as conformance
from esi_agent.tests.fakes import heat_api
from esi_agent.tests.functional import base
from esi_agent.tests.functional import jobs
from esi_agent.tests import reference
from esi_agent.tests import services

CONF = esi_conf.CONF

LOG_FORMAT = '%(levelname)s %(name)s %(message)s'

SECRET_WORDS = ('password', 'secret', 'token', 'key', 'credential')
# Names with a secret word that hold no secret: the output name of an
# output_key reference.
NOT_SECRET = frozenset(['output_key'])

# Libraries that log requests and messages at DEBUG; some deployments
# raise them to DEBUG, so the test does too.
LIBRARY_LOGGERS = ('keystoneauth', 'heatclient', 'oslo_messaging',
                   'oslo.messaging', 'urllib3', 'requests', 'amqp', 'kombu',
                   'etcd3gw', 'tooz', 'stevedore', 'oslo_service',
                   'oslo.service', 'oslo_concurrency', 'esi_agent')
# keystoneauth1.session logs the body of each request (curl -d) and
# response at DEBUG: the stack parameters of the Heat API calls.
KEYSTONEAUTH_BODIES = ('DEBUG keystoneauth.session REQ: ',
                       'DEBUG keystoneauth.session RESP BODY: ')
# Loggers whose DEBUG lines must be in the capture, or it proves nothing.
MUST_LOG = KEYSTONEAUTH_BODIES + (
    'DEBUG urllib3.connectionpool', 'DEBUG oslo_messaging.',
    'DEBUG oslo.messaging.', 'INFO esi_agent.jobs.')


def is_secret_name(name):
    if not isinstance(name, str) or name in NOT_SECRET:
        return False
    name = name.lower()
    return any(word in name for word in SECRET_WORDS)


class Secrets(object):
    """Plants unique markers in place of secrets, remembering where."""

    def __init__(self):
        self.where = {}

    def new(self, where):
        marker = 'zSeKrT%03d%s' % (len(self.where), uuid.uuid4().hex[:10])
        self.where[marker] = where
        return marker

    def plant(self, job):
        """A copy of ``job`` with a marker for each of its secrets."""
        job = copy.deepcopy(job)
        where = job['id']
        job['params'] = self._params(job.get('params') or [],
                                     '%s params' % where)
        if 'resource_input' in job:
            job['resource_input'] = self._walk(
                job['resource_input'], '%s resource_input' % where, False)
        return job

    def _params(self, params, where):
        if not isinstance(params, list):
            return self._walk(params, where, False)
        for param in params:
            if not isinstance(param, dict):
                continue
            name = param.get('param')
            path = '%s %s' % (where, name)
            if param.get('type') == 'list':
                param['value'] = self._params(param['value'], path)
            elif param.get('type') != 'output_key':
                param['value'] = self._walk(param['value'], path,
                                            is_secret_name(name))
        return params

    def _walk(self, value, path, secret):
        if isinstance(value, str):
            return self.new(path) if secret else value
        if isinstance(value, dict):
            return {k: self._walk(v, '%s.%s' % (path, k),
                                  secret or is_secret_name(k))
                    for k, v in value.items()}
        if isinstance(value, list):
            return [self._walk(v, '%s[%d]' % (path, n), secret)
                    for n, v in enumerate(value)]
        return value

    def leaks(self, text):
        """``{marker: (where, line)}`` of the markers found in ``text``."""
        lines = text.splitlines()
        found = {}
        for marker, where in self.where.items():
            for form in _forms(marker):
                for line in lines:
                    if form in line:
                        found[marker] = (where, line[:600])
                        break
                if marker in found:
                    break
        return found


def _forms(secret):
    """The secret, and what any base64 text holding it must contain."""
    forms = [secret]
    data = secret.encode('utf-8')
    for shift in range(3):
        encoded = base64.b64encode(b'\0' * shift + data).decode('ascii')
        start = -(-8 * shift // 6)
        end = 8 * (shift + len(data)) // 6
        forms.append(encoded[start:end])
    return forms


class _Keystone(http.server.BaseHTTPRequestHandler):
    """Keystone v3: version discovery and password authentication."""

    def do_GET(self):
        root = 'http://%s:%d' % self.server.server_address
        self._reply(200, {'version': {
            'id': 'v3.14', 'status': 'stable',
            'updated': '2020-04-07T00:00:00Z',
            'links': [{'rel': 'self', 'href': root + '/v3/'}],
            'media-types': [{
                'base': 'application/json',
                'type': 'application/vnd.openstack.identity-v3+json'}]}})

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers['Content-Length'])))
        password = body['auth']['identity']['password']['user']['password']
        if password != self.server.password:
            self._reply(401, {'error': {'code': 401, 'title': 'Unauthorized',
                                        'message': 'Bad password'}})
            return
        self.server.tokens += 1
        domain = {'id': 'default', 'name': 'Default'}
        self._reply(201, {'token': {
            'methods': ['password'],
            'expires_at': '2099-01-01T00:00:00.000000Z',
            'issued_at': '2020-01-01T00:00:00.000000Z',
            'user': {'id': 'u1', 'name': 'esi-agent', 'domain': domain},
            'project': {'id': 'p1', 'name': 'service', 'domain': domain},
            'roles': [{'id': 'r1', 'name': 'admin'}],
            'catalog': []}}, {'X-Subject-Token': self.server.token})

    def _reply(self, code, body, headers=None):
        data = json.dumps(body).encode('utf-8')
        self.send_response(code)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, fmt, *args):
        pass


class FakeKeystone(fixtures.Fixture):
    """A Keystone that takes one password and hands out one token."""

    def __init__(self, password, token):
        super().__init__()
        self.password, self.token = password, token

    def _setUp(self):
        server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), _Keystone)
        server.daemon_threads = True
        server.password, server.token, server.tokens = (
            self.password, self.token, 0)
        thread = threading.Thread(target=server.serve_forever,
                                  kwargs={'poll_interval': 0.05},
                                  daemon=True)
        thread.start()
        self.addCleanup(thread.join)
        self.addCleanup(server.server_close)
        self.addCleanup(server.shutdown)
        self.server = server
        self.url = 'http://127.0.0.1:%d/v3' % server.server_address[1]


class SecretsTestCase(base.FunctionalTestCase):

    def setUp(self):
        super().setUp()
        self.secrets = Secrets()
        self.log = self.useFixture(fixtures.FakeLogger(
            level=logging.DEBUG, format=LOG_FORMAT))
        for name in LIBRARY_LOGGERS:
            logger = logging.getLogger(name)
            self.addCleanup(setattr, logger, 'disabled', logger.disabled)
            self.addCleanup(logger.setLevel, logger.level)
            logger.setLevel(logging.DEBUG)
            logger.disabled = False

    def use_keystone(self):
        """Authenticate to Heat with a password, against a Keystone."""
        password = self.secrets.new('[heat] password')
        token = self.secrets.new('the Keystone token')
        self.keystone = self.useFixture(FakeKeystone(password, token))
        self.cfg_fixture.register_opts(
            ks_loading.get_auth_plugin_conf_options('password'),
            group='heat')
        self.config(auth_type='password', auth_url=self.keystone.url,
                    username='esi-agent', password=password,
                    project_name='service', user_domain_name='Default',
                    project_domain_name='Default', group='heat')

    def assertNoLeak(self, text, what='the log'):
        leaks = self.secrets.leaks(text)
        if leaks:
            self.fail('%d secrets found in %s:\n%s' % (
                len(leaks), what, '\n'.join(
                    '%s (%s): %s' % (marker, where, line)
                    for marker, (where, line) in sorted(leaks.items()))))


class TestReferenceJobs(SecretsTestCase):
    """The 77 production jobs, with every logger at DEBUG."""

    def setUp(self):
        reference.skip_unless_available(self)
        self.cases = reference.job_cases()
        super().setUp()
        reference.use_production_templates(self)
        self.use_keystone()

    def make_heat(self):
        return heat_api.FakeHeat(
            outcome=conformance.ReplayHeat(reference.job_cases()))

    def test_no_secret_in_logs(self):
        planted = [self.secrets.plant(c['job']) for c in self.cases]
        jobs_secrets = len(self.secrets.where) - 2
        # The production jobs hold secrets in both places.
        self.assertGreater(jobs_secrets, 20)
        self.start_agent()
        self.cast(*planted)
        statuses = self.wait_final([j['id'] for j in planted], timeout=120)
        self.assertNotIn('FAILED', statuses.values(), statuses)
        self.assertGreater(self.keystone.server.tokens, 0)
        output = self.log.output
        lines = output.splitlines()
        for start in MUST_LOG:
            self.assertTrue(any(line.startswith(start) for line in lines),
                            'no line "%s..." was captured' % start)
        self.assertNoLeak(output)


BAD_TEMPLATE = '''heat_template_version: 2018-08-31
resources:
  r:
    type: OS::Heat::None
# {{ [].index(jinja_admin_password) }}
'''


class TestRejectedJobs(SecretsTestCase):
    """Refused jobs carrying passwords: the log and records stay clean."""

    def setUp(self):
        super().setUp()
        template_dir = self.useFixture(fixtures.TempDir()).path
        jobs.write_templates(template_dir, bad_index=BAD_TEMPLATE)
        mapping_file = os.path.join(template_dir, 'template_mappings.json')
        with open(mapping_file, 'w') as f:
            json.dump({'heat_worker': {'by_credentials': 'Pcredentials',
                                       'joined': 'ACx_&Pcredentials'}}, f)
        self.config(template_dir=template_dir, mapping_file=mapping_file,
                    group='templates')

    def _job(self, rtype='network', **fields):
        job = jobs.job(rtype, params=[
            jobs.value('primary_device_password', 'p'),
            {'param': 'credentials', 'type': 'value', 'resources': [],
             'value': {'username': 'u', 'password': 'p'}}])
        job['resource_input'].update(
            password='p', credentials={'password': 'p', 'token': 't'})
        job.update(fields)
        return self.secrets.plant(job)

    def test_rejected_jobs(self):
        agent = self.start_agent()
        unknown_type = self._job()
        unknown_type['params'].append(
            {'param': 'admin_password', 'type': 'secret', 'resources': [],
             'value': self.secrets.new('param of unknown type')})
        in_place_of_a_string = self._job()
        in_place_of_a_string['job_name'] = {
            'password': self.secrets.new('job_name.password')}
        surrogate = self._job()
        surrogate['params'][0]['value'] += '\ud800'
        mapped = self._job('by_credentials')
        mapped['resource_input']['credentials']['name'] = 'x'
        joined = self._job('joined')
        rendered = self._job('bad_index')
        rendered['params'].append(jobs.value(
            'jinja_admin_password', self.secrets.new('jinja param')))
        refused = [
            self._job(version='one'),
            self._job(version=0, action='modify'),
            self._job(handler='nova'),
            self._job(params={'password': self.secrets.new('params')}),
            self._job(id='x' * 513),
            self._job(resource_input=[self.secrets.new('list item')]),
            unknown_type, in_place_of_a_string, surrogate,
            self._job(dependency=[{'token': self.secrets.new('dep token')}]),
            self._job(description='x' * 600 * 1024),
        ]
        failing = [mapped, joined, rendered]
        self.cast(*refused + failing)

        def state(job):
            return self.etcd.get_json(records.state_key(
                job['resource_type'], job['resource_id']))

        services.wait_for(lambda: all(map(state, refused + failing)),
                          what='the state records of the refused jobs')
        for job in refused + failing:
            record = state(job)
            self.assertIn('_FAILED', record['state']['worker_state'])
            self.assertTrue(record['error'])
            self.assertNoLeak(json.dumps(record), 'the state record of %s'
                              % job['resource_id'])
        self.assertEqual(len(refused), agent.manager.intake.stats['rejected'])
        # The errors that quote a value show the mask instead.
        self.assertIn("'password': '***'", state(mapped)['error'])
        self.assertIn("'***' is not in list", state(rendered)['error'])
        self.assertNoLeak(self.log.output)


class TestOptions(SecretsTestCase):
    """Secret options are masked when the configuration is logged."""

    def test_log_opt_values(self):
        self.use_keystone()
        key = self.secrets.new('[etcd] cert_key')
        self.config(cert_key='/etc/esi-agent/' + key + '.pem',
                    group='etcd')
        url = self.secrets.new('transport_url password')
        self.config(transport_url='rabbit://esi:%s@rabbit:5672/' % url)
        CONF.log_opt_values(logging.getLogger('esi_agent.test'),
                            logging.DEBUG)
        output = self.log.output
        self.assertIn('heat.password', output)
        self.assertIn('etcd.cert_key', output)
        self.assertRegex(output, r'heat\.password\s+= \*\*\*\*')
        self.assertRegex(output, r'etcd\.cert_key\s+= \*\*\*\*')
        self.assertNoLeak(output)
