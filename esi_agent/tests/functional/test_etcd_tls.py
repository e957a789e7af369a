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
"""etcd over TLS, with client certificates (``[etcd] protocol = https``,
``ca_cert``, ``cert_cert``, ``cert_key``).

A throw-away PKI is made with the ``openssl`` command: a CA, a server
certificate for 127.0.0.1 and localhost, a client certificate, and a second
CA with a client certificate of its own. A real etcd serves https and
requires a client certificate of the first CA (``--client-cert-auth``). It
is started once per test process, like the plain one of
:func:`services.shared_etcd`.
"""

import atexit
import logging
import os
import shutil
import subprocess
import tempfile
import time

import fixtures
import requests

from esi_agent import etcd
from esi_agent import exception
from esi_agent.jobs import store
from esi_agent import records
from esi_agent.tests import base
from esi_agent.tests.functional import base as functional_base
from esi_agent.tests.functional import jobs
from esi_agent.tests import services

CONF = base.CONF

# Taken at import: tests run with a temporary directory of their own, gone
# at their end, and the PKI outlives the test that makes it.
_TMP = tempfile.gettempdir()

_CA_EXTENSIONS = ('-addext', 'basicConstraints=critical,CA:TRUE',
                  '-addext', 'keyUsage=critical,keyCertSign,cRLSign')

_LEAF_EXTENSIONS = '''basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = %(usage)s
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid,issuer
%(san)s
'''


class Pki(object):
    """Keys and certificates in a directory, made with ``openssl``."""

    def __init__(self, directory):
        self.directory = directory

    def path(self, name):
        return os.path.join(self.directory, name)

    def _openssl(self, *args):
        subprocess.run(('openssl',) + args, cwd=self.directory, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def ca(self, name):
        """A self-signed CA: returns the path of its certificate."""
        self._openssl('req', '-x509', '-new', '-newkey', 'ec', '-pkeyopt',
                      'ec_paramgen_curve:prime256v1', '-nodes', '-keyout',
                      name + '.key', '-out', name + '.crt', '-days', '2',
                      '-subj', '/CN=%s' % name, *_CA_EXTENSIONS)
        return self.path(name + '.crt')

    def issue(self, name, ca, usage, san=None):
        """A certificate of ``ca``: returns (certificate, key) paths."""
        with open(self.path(name + '.ext'), 'w') as f:
            f.write(_LEAF_EXTENSIONS % {
                'usage': usage,
                'san': 'subjectAltName = %s' % san if san else ''})
        self._openssl('req', '-new', '-newkey', 'ec', '-pkeyopt',
                      'ec_paramgen_curve:prime256v1', '-nodes', '-keyout',
                      name + '.key', '-out', name + '.csr', '-subj',
                      '/CN=%s' % name)
        self._openssl('x509', '-req', '-in', name + '.csr', '-CA',
                      ca + '.crt', '-CAkey', ca + '.key', '-CAcreateserial',
                      '-out', name + '.crt', '-days', '2', '-extfile',
                      name + '.ext')
        return self.path(name + '.crt'), self.path(name + '.key')


class TlsEtcd(object):
    """The PKI and the https etcd of this test process."""

    def __init__(self):
        self.directory = tempfile.mkdtemp(prefix='esi-etcd-tls-', dir=_TMP)
        self.server = None
        try:
            pki = Pki(self.directory)
            self.ca = pki.ca('esi-test-ca')
            # etcd's gRPC gateway presents the server certificate as a
            # client certificate to etcd itself: it serves both purposes.
            self.server_cert = pki.issue('server', 'esi-test-ca',
                                         'serverAuth, clientAuth',
                                         'IP:127.0.0.1, DNS:localhost')
            self.client_cert = pki.issue('esi-agent', 'esi-test-ca',
                                         'clientAuth')
            self.other_ca = pki.ca('other-ca')
            self.other_client_cert = pki.issue('intruder', 'other-ca',
                                               'clientAuth')
            cert, key = self.server_cert
            self.server = services.EtcdServer(
                extra_args=['--cert-file', cert, '--key-file', key,
                            '--trusted-ca-file', self.ca,
                            '--client-cert-auth'],
                scheme='https',
                client_cert=(self.ca,) + self.client_cert).start()
        except BaseException:
            self.cleanup()
            raise

    def cleanup(self):
        if self.server is not None:
            self.server.cleanup()
        shutil.rmtree(self.directory, ignore_errors=True)


_TLS_ETCD = None


def tls_etcd():
    global _TLS_ETCD
    if _TLS_ETCD is not None and _TLS_ETCD.server.proc.poll() is not None:
        _TLS_ETCD.cleanup()
        _TLS_ETCD = None
    if _TLS_ETCD is None:
        _TLS_ETCD = TlsEtcd()
        atexit.register(_TLS_ETCD.cleanup)
    return _TLS_ETCD


def _skip_unless_possible(testcase):
    if shutil.which('openssl') is None:
        testcase.skipTest('the openssl command is not installed')
    if shutil.which(services.ETCD_BIN) is None:
        testcase.skipTest('%s not found: install the Debian package '
                          'etcd-server' % services.ETCD_BIN)


# requests lets these variables override the CA bundle a Session was given
# (its ``verify``, which etcd3gw sets to [etcd] ca_cert): see
# TestEtcdTls.test_ca_cert_despite_environment.
CA_BUNDLE_VARIABLES = ('REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE')


def without_ca_bundle_variables(testcase):
    for name in CA_BUNDLE_VARIABLES:
        testcase.useFixture(fixtures.EnvironmentVariable(name))


def configure(testcase, tls, host='127.0.0.1', ca=None, cert=None):
    """Point ``[etcd]`` of ``testcase`` at the https etcd."""
    cert_cert, cert_key = cert or tls.client_cert
    testcase.config(host=host, port=tls.server.port, protocol='https',
                    ca_cert=ca or tls.ca, cert_cert=cert_cert,
                    cert_key=cert_key, retry_timeout=0.5, timeout=5,
                    group='etcd')


class TestEtcdTls(base.TestCase):

    def setUp(self):
        super().setUp()
        _skip_unless_possible(self)
        without_ca_bundle_variables(self)
        self.tls = tls_etcd()
        self.prefix = '/esi-test-tls/%s/' % self.id()

    def client(self, **kw):
        configure(self, self.tls, **kw)
        return etcd.EtcdClient(CONF)

    def test_put_get_txn(self):
        client = self.client()
        key = self.prefix + 'k'
        client.put(key, {'a': 'é'})
        self.assertEqual({'a': 'é'}, client.get_json(key))
        result = client.txn(compare=[etcd.cmp_missing(key)],
                            success=[etcd.op_put(key, 'never')],
                            failure=[etcd.op_range(key)])
        self.assertFalse(result.succeeded)
        self.assertEqual({'a': 'é'}, result.range_kvs(0)[0].json())
        other = self.prefix + 'other'
        result = client.txn(compare=[etcd.cmp_missing(other)],
                            success=[etcd.op_put(other, {'b': 1})])
        self.assertTrue(result.succeeded)
        self.assertEqual([key, other], sorted(
            kv.key for kv in client.get_prefix(self.prefix)))
        client.delete(key)
        self.assertIsNone(client.get(key))

    def test_host_name_in_certificate(self):
        client = self.client(host='localhost')
        client.put(self.prefix + 'k', 'v')
        self.assertEqual(b'v', client.get(self.prefix + 'k').value)

    def test_job_store_intake_and_finish(self):
        job_store = store.JobStore(self.client())
        job = jobs.network()
        received_at = time.time()
        arrival, seen = job_store.intake(job, received_at)
        self.assertIsNotNone(arrival)
        self.assertIsNone(seen)
        # The same id again is a duplicate.
        self.assertIsNotNone(job_store.intake(job, received_at + 1)[1])
        name = 'network_' + job['resource_id']
        outputs = [{'output_key': 'id', 'output_value': 'x',
                    'description': ''}]
        self.assertTrue(job_store.finish(
            job, records.stack_records(job, name, 'CREATE_COMPLETE', '',
                                       outputs),
            store.COMPLETED, received_at))
        self.assertEqual(outputs, job_store.outputs('network',
                                                    job['resource_id']))
        client = self.client()
        self.assertEqual(store.COMPLETED,
                         client.get_json(store.job_key(job['id']))['status'])
        state = client.get_json(records.state_key('network',
                                                  job['resource_id']))
        self.assertEqual('CREATE_COMPLETED', state['state']['worker_state'])

    def assertRefused(self, client, *fragments):
        error = self.assertRaises(exception.EtcdError, client.get,
                                  self.prefix + 'k')
        for fragment in fragments:
            self.assertIn(fragment, str(error))
        return error

    def test_client_without_certificate_refused(self):
        configure(self, self.tls)
        self.config(cert_cert=None, cert_key=None, group='etcd')
        self.assertRefused(etcd.EtcdClient(CONF))

    def test_client_certificate_of_another_ca_refused(self):
        self.assertRefused(self.client(cert=self.tls.other_client_cert))

    def test_wrong_ca_fails_verification(self):
        self.assertRefused(self.client(ca=self.tls.other_ca),
                           'CERTIFICATE_VERIFY_FAILED')

    def test_ca_cert_despite_environment(self):
        # Debian and RHEL hosts, containers and CI set REQUESTS_CA_BUNDLE
        # or CURL_CA_BUNDLE to the system bundle; a requests Session that
        # trusts the environment verifies with it instead of its own
        # verify (psf/requests#3829). The agent's does not.
        self.useFixture(fixtures.EnvironmentVariable(
            'REQUESTS_CA_BUNDLE', self.tls.other_ca))
        client = self.client()
        client.put(self.prefix + 'k', 'v')
        self.assertEqual(b'v', client.get(self.prefix + 'k').value)

    def test_tls_failure_is_not_retried_as_an_outage(self):
        # A certificate that does not verify is configuration, not an
        # outage: the first request fails, with no backoff for
        # retry_timeout and no "unavailable" warning.
        client = self.client(ca=self.tls.other_ca)
        self.config(retry_timeout=60, group='etcd')
        client = etcd.EtcdClient(CONF)
        logs = self.useFixture(fixtures.FakeLogger(level=logging.DEBUG))
        self.assertRefused(client, 'CERTIFICATE_VERIFY_FAILED')
        self.assertEqual(1, client.request_count)
        self.assertNotIn('unavailable', logs.output)

    def test_plain_http_refused(self):
        configure(self, self.tls)
        self.config(protocol='http', group='etcd')
        self.assertRefused(etcd.EtcdClient(CONF))


class TestAgentOverTls(functional_base.FunctionalTestCase):
    """One job through an in-process agent whose etcd speaks only TLS."""

    def setUp(self):
        super().setUp()
        _skip_unless_possible(self)
        without_ca_bundle_variables(self)
        self.tls = tls_etcd()
        configure(self, self.tls)
        self.config(retry_timeout=10, group='etcd')
        self.etcd = etcd.EtcdClient(CONF)
        template_dir = self.useFixture(
            fixtures.TempDir()).path
        jobs.write_templates(template_dir)
        self.config(template_dir=template_dir, group='templates')

    def test_job(self):
        self.start_agent()
        network = jobs.network()
        port = jobs.port(network['resource_id'])
        self.cast(port, network)
        self.assertEqual({network['id']: store.COMPLETED,
                          port['id']: store.COMPLETED},
                         self.wait_final([network['id'], port['id']]))
        state = self.etcd.get_json(records.state_key(
            'port', port['resource_id']))
        self.assertEqual('CREATE_COMPLETED', state['state']['worker_state'])
        # Nothing went to the plain etcd of the other tests.
        plain = services.shared_etcd()
        self.assertEqual(0, self._count(plain, store.job_key('')))

    def _count(self, server, prefix):
        body = {'key': etcd._b64(prefix),
                'range_end': etcd._b64(etcd.prefix_end(prefix)),
                'count_only': True}
        answer = requests.post(server.url + '/v3/kv/range', json=body,
                               timeout=10)
        answer.raise_for_status()
        return int(answer.json().get('count', 0))
