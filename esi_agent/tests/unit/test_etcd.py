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

"""Unit tests of :mod:`esi_agent.etcd`: pure helpers and retries.

No etcd is needed: the etcd3gw client is replaced by a mock.
"""

import base64
import json
import logging
from unittest import mock

from etcd3gw import exceptions as etcd_exc
import fixtures

from esi_agent import etcd
from esi_agent import exception
from esi_agent.tests import base

CONF = base.CONF


def b64(text):
    return base64.b64encode(text.encode('utf-8')).decode('ascii')


def unb64(text):
    return base64.b64decode(text).decode('utf-8')


def kv(key, value, create_revision='5', mod_revision='7'):
    """A kv as the gRPC gateway sends it (int64 as strings)."""
    return {'key': b64(key), 'value': b64(value),
            'create_revision': create_revision,
            'mod_revision': mod_revision, 'version': '1'}


class TestPrefixEnd(base.TestCase):

    def test_last_byte_incremented(self):
        self.assertEqual(b'/esi-agent/jobs0',
                         etcd.prefix_end('/esi-agent/jobs/'))
        self.assertEqual(b'/a/c', etcd.prefix_end('/a/b'))

    def test_multibyte_prefix(self):
        # '€' is e2 82 ac in UTF-8: the end is computed on the bytes.
        self.assertEqual(b'/\xe2\x82\xad', etcd.prefix_end('/\u20ac'))

    def test_keys_under_prefix_sort_before_the_end(self):
        prefix = '/esi-agent/jobs/'
        end = etcd.prefix_end(prefix)
        for key in ('/esi-agent/jobs/', '/esi-agent/jobs/a',
                    '/esi-agent/jobs/\u20ac\uffff'):
            raw = key.encode('utf-8')
            self.assertTrue(prefix.encode('utf-8') <= raw < end, key)
        self.assertGreaterEqual(b'/esi-agent/jobs0', end)


class TestDumps(base.TestCase):

    def test_utf8_not_escaped(self):
        self.assertEqual('{"name": "\u20ac"}'.encode('utf-8'),
                         etcd.dumps({'name': '\u20ac'}))


class TestBuilders(base.TestCase):

    def test_op_put_record(self):
        record = {'name': 'caf\u00e9 \u20ac', 'n': [1, None]}
        op = etcd.op_put('/k/\u20ac', record)
        self.assertEqual({'request_put'}, set(op))
        self.assertEqual('/k/\u20ac', unb64(op['request_put']['key']))
        self.assertEqual(record,
                         json.loads(unb64(op['request_put']['value'])))
        # Stored as UTF-8, not as \\u escapes.
        self.assertIn('\u20ac', unb64(op['request_put']['value']))

    def test_op_put_str_and_bytes(self):
        self.assertEqual(b64('\u20ac'),
                         etcd.op_put('k', '\u20ac')['request_put']['value'])
        self.assertEqual(
            base64.b64encode(b'\x00\xff').decode('ascii'),
            etcd.op_put('k', b'\x00\xff')['request_put']['value'])

    def test_op_put_number_is_json(self):
        self.assertEqual('3', unb64(etcd.op_put('k', 3)['request_put'][
            'value']))

    def test_op_delete_and_range(self):
        self.assertEqual({'request_delete_range': {'key': b64('/a')}},
                         etcd.op_delete('/a'))
        self.assertEqual({'request_range': {'key': b64('/\u20ac')}},
                         etcd.op_range('/\u20ac'))

    def test_op_txn(self):
        compare = [etcd.cmp_missing('/a')]
        success = (etcd.op_put('/a', 'x'),)
        self.assertEqual(
            {'request_txn': {'compare': compare, 'success': list(success),
                             'failure': []}},
            etcd.op_txn(compare, success))
        failure = [etcd.op_range('/a')]
        self.assertEqual(failure, etcd.op_txn(compare, success, failure)[
            'request_txn']['failure'])

    def test_cmp_missing(self):
        self.assertEqual({'key': b64('/\u20ac'), 'target': 'CREATE',
                          'result': 'EQUAL', 'create_revision': 0},
                         etcd.cmp_missing('/\u20ac'))

    def test_cmp_value_less(self):
        self.assertEqual({'key': b64('/v'), 'target': 'VALUE',
                          'result': 'LESS',
                          'value': b64('00000000000000000004')},
                         etcd.cmp_value_less('/v', '00000000000000000004'))


class TestKeyValue(base.TestCase):

    def test_decode(self):
        value = etcd.KeyValue(kv('/k/\u20ac', '{"a": "\u20ac"}'))
        self.assertEqual('/k/\u20ac', value.key)
        self.assertEqual('{"a": "\u20ac"}'.encode('utf-8'), value.value)
        self.assertEqual(5, value.create_revision)
        self.assertEqual(7, value.mod_revision)
        self.assertEqual({'a': '\u20ac'}, value.json())

    def test_round_trip_with_op_put(self):
        record = {'state': {'worker_state': 'CREATE_COMPLETED'},
                  'error': '\u20ac'}
        put = etcd.op_put('/state/\u20ac', record)['request_put']
        value = etcd.KeyValue(put)
        self.assertEqual('/state/\u20ac', value.key)
        self.assertEqual(record, value.json())

    def test_missing_fields(self):
        # The gateway leaves out empty values and zero revisions.
        value = etcd.KeyValue({'key': b64('/k')})
        self.assertEqual(b'', value.value)
        self.assertEqual(0, value.create_revision)
        self.assertEqual(0, value.mod_revision)


class TestTxnResult(base.TestCase):

    def test_succeeded(self):
        result = etcd.TxnResult({'header': {'revision': '42'},
                                 'succeeded': True})
        self.assertTrue(result.succeeded)
        self.assertEqual(42, result.revision)
        self.assertEqual([], result.responses)

    def test_succeeded_missing_is_false(self):
        # The gateway omits false booleans.
        result = etcd.TxnResult({'header': {'revision': '3'}})
        self.assertIs(False, result.succeeded)
        self.assertEqual(3, result.revision)

    def test_empty_answer(self):
        result = etcd.TxnResult({})
        self.assertFalse(result.succeeded)
        self.assertEqual(0, result.revision)

    def test_range_kvs(self):
        result = etcd.TxnResult({'responses': [
            {'response_put': {}},
            {'response_range': {'kvs': [kv('/a', '1'), kv('/b', '2')],
                                'count': '2'}},
            {'response_range': {}}]})
        kvs = result.range_kvs(1)
        self.assertEqual(['/a', '/b'], [k.key for k in kvs])
        self.assertEqual([b'1', b'2'], [k.value for k in kvs])
        self.assertEqual([], result.range_kvs(2))
        self.assertEqual([], result.range_kvs(0))

    def test_nested(self):
        result = etcd.TxnResult({'responses': [{'response_txn': {
            'header': {'revision': '9'},
            'responses': [{'response_range': {'kvs': [kv('/v', '7')]}}]}}]})
        nested = result.nested(0)
        self.assertIsInstance(nested, etcd.TxnResult)
        self.assertFalse(nested.succeeded)
        self.assertEqual(9, nested.revision)
        self.assertEqual(b'7', nested.range_kvs(0)[0].value)

    def test_nested_succeeded(self):
        result = etcd.TxnResult({'responses': [{'response_txn': {
            'succeeded': True}}]})
        self.assertTrue(result.nested(0).succeeded)

    def test_nested_missing_response(self):
        result = etcd.TxnResult({'responses': [{'response_put': {}}]})
        self.assertFalse(result.nested(0).succeeded)


class FakeClock(object):
    """tenacity's clock: sleeping moves it forward, nothing waits."""

    def __init__(self):
        self.now = 1000.0
        self.sleeps = []

    def monotonic(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


class EtcdClientTestCase(base.TestCase):

    URL = 'http://etcd.example:2379/v3'

    def setUp(self):
        super().setUp()
        self.config(group='etcd', host='etcd.example', retry_timeout=5)
        self.factory = self.useFixture(
            fixtures.MockPatch('etcd3gw.client')).mock
        self.log = self.useFixture(fixtures.FakeLogger(
            name='esi_agent.etcd', level=logging.INFO,
            format='%(levelname)s %(message)s'))
        # tenacity's time only: the backoff is recorded, never slept.
        self.clock = FakeClock()
        self.useFixture(fixtures.MockPatch('tenacity.time', self.clock))
        self.useFixture(fixtures.MockPatch('tenacity.nap.time', self.clock))
        self.client = etcd.EtcdClient(CONF)
        self.gateway = self.factory.return_value
        self.gateway.get_url.side_effect = lambda path: self.URL + path

    def bodies(self):
        return [json.loads(c.kwargs['data'])
                for c in self.gateway.post.call_args_list]

    def log_lines(self):
        return [line for line in self.log.output.splitlines() if line]


class TestEtcdClientRequests(EtcdClientTestCase):

    def test_client_from_config(self):
        self.config(group='etcd', port=4001, protocol='https',
                    ca_cert='/ca.pem', cert_cert='/c.pem',
                    cert_key='/k.pem', timeout=3.5)
        client = etcd.EtcdClient(CONF)
        self.factory.assert_called_with(
            host='etcd.example', port=4001, protocol='https',
            timeout=3.5, session=mock.ANY)
        session = self.factory.call_args.kwargs['session']
        self.assertEqual('/ca.pem', session.verify)
        self.assertEqual(('/c.pem', '/k.pem'), session.cert)
        # [etcd] alone configures it: no REQUESTS_CA_BUNDLE, proxies...
        self.assertFalse(session.trust_env)
        self.assertEqual(etcd.POOL_SIZE,
                         session.get_adapter('https://x')._pool_maxsize)
        self.assertEqual('https://etcd.example:4001', client.endpoint)

    def test_get(self):
        self.gateway.post.return_value = {
            'header': {'revision': '8'}, 'kvs': [kv('/k/\u20ac', '"v"')]}
        value = self.client.get('/k/\u20ac')
        self.assertEqual('/k/\u20ac', value.key)
        self.assertEqual('v', value.json())
        self.gateway.post.assert_called_once_with(
            self.URL + '/kv/range', data=json.dumps({'key': b64('/k/\u20ac')}))
        self.assertEqual(1, self.client.request_count)

    def test_get_missing(self):
        self.gateway.post.return_value = {'header': {'revision': '8'}}
        self.assertIsNone(self.client.get('/k'))
        self.assertIsNone(self.client.get_json('/k'))

    def test_get_json(self):
        self.gateway.post.return_value = {'kvs': [kv('/k', '{"a": 1}')]}
        self.assertEqual({'a': 1}, self.client.get_json('/k'))

    def test_put_record(self):
        self.gateway.post.return_value = {}
        self.client.put('/k', {'a': '\u20ac'})
        body = self.bodies()[0]
        self.assertEqual('/k', unb64(body['key']))
        self.assertEqual({'a': '\u20ac'}, json.loads(unb64(body['value'])))
        self.assertEqual(self.URL + '/kv/put',
                         self.gateway.post.call_args.args[0])

    def test_put_text(self):
        self.gateway.post.return_value = {}
        self.client.put('/k', '00000000000000000003')
        self.assertEqual('00000000000000000003',
                         unb64(self.bodies()[0]['value']))

    def test_delete(self):
        self.gateway.post.return_value = {}
        self.client.delete('/k')
        self.assertEqual([{'key': b64('/k')}], self.bodies())
        self.assertEqual(self.URL + '/kv/deleterange',
                         self.gateway.post.call_args.args[0])

    def test_txn(self):
        self.gateway.post.return_value = {'header': {'revision': '12'},
                                          'succeeded': True}
        compare = [etcd.cmp_missing('/k')]
        success = [etcd.op_put('/k', 'v')]
        result = self.client.txn(compare, success)
        self.assertTrue(result.succeeded)
        self.assertEqual(12, result.revision)
        self.assertEqual([{'compare': compare, 'success': success,
                           'failure': []}], self.bodies())
        self.assertEqual(self.URL + '/kv/txn',
                         self.gateway.post.call_args.args[0])
        self.assertEqual(1, self.client.txn_count)

    def test_get_prefix_pages_at_one_revision(self):
        self.client.PAGE_SIZE = 2
        self.gateway.post.side_effect = [
            {'header': {'revision': '30'}, 'more': True,
             'kvs': [kv('/p/a', '1'), kv('/p/b', '2')]},
            {'header': {'revision': '31'}, 'more': False,
             'kvs': [kv('/p/c', '3')]},
        ]
        keys = [k.key for k in self.client.get_prefix('/p/')]
        self.assertEqual(['/p/a', '/p/b', '/p/c'], keys)
        first, second = self.bodies()
        end = base64.b64encode(b'/p0').decode('ascii')
        self.assertEqual({'key': b64('/p/'), 'range_end': end, 'limit': 2},
                         first)
        self.assertEqual({'key': base64.b64encode(b'/p/b\x00').decode(),
                          'range_end': end, 'limit': 2, 'revision': 30},
                         second)

    def test_get_prefix_empty(self):
        self.gateway.post.return_value = {'header': {'revision': '3'}}
        self.assertEqual([], list(self.client.get_prefix('/p/')))
        self.assertEqual(1, self.gateway.post.call_count)

    def test_ping(self):
        self.client.ping()
        self.gateway.status.assert_called_once_with()

    def test_ping_does_not_retry(self):
        self.gateway.status.side_effect = etcd_exc.ConnectionFailedError(
            'refused')
        error = self.assertRaises(exception.EtcdError, self.client.ping)
        self.assertIn('etcd request failed: ', str(error))
        self.assertEqual(1, self.gateway.status.call_count)

    def test_ping_error_names_the_cause(self):
        self.gateway.status.side_effect = etcd_exc.ConnectionFailedError(
            'Connection refused')
        error = self.assertRaises(exception.EtcdError, self.client.ping)
        self.assertIn('Connection refused', str(error))


class TestEtcdClientRetries(EtcdClientTestCase):

    def test_retries_until_etcd_answers(self):
        self.gateway.post.side_effect = [
            etcd_exc.ConnectionFailedError('refused'),
            etcd_exc.ConnectionTimeoutError('timed out'),
            {'kvs': [kv('/k', '"v"')]},
        ]
        self.assertEqual('v', self.client.get_json('/k'))
        self.assertEqual(3, self.gateway.post.call_count)
        self.assertEqual(3, self.client.request_count)
        # Exponential backoff between the attempts.
        self.assertEqual([0.1, 0.2], self.clock.sleeps)
        lines = self.log_lines()
        self.assertEqual(2, len(lines), lines)
        self.assertTrue(lines[0].startswith(
            'WARNING etcd at http://etcd.example:2379 is unavailable ('),
            lines[0])
        self.assertTrue(lines[0].endswith(
            '); retrying with backoff for up to 5.0 s'), lines[0])
        self.assertTrue(lines[1].startswith(
            'INFO etcd at http://etcd.example:2379 is available again '
            'after '), lines[1])

    def test_outage_warning_names_the_error(self):
        self.gateway.post.side_effect = [
            etcd_exc.ConnectionFailedError('Connection refused'), {}]
        self.client.delete('/k')
        warning = self.log_lines()[0]
        self.assertIn('(Connection refused)', warning)

    def test_internal_server_error_is_retried(self):
        self.gateway.post.side_effect = [
            etcd_exc.InternalServerError('leader changed'), {}]
        self.client.delete('/k')
        self.assertEqual(2, self.gateway.post.call_count)

    def test_one_warning_per_outage(self):
        self.gateway.post.side_effect = [
            etcd_exc.ConnectionFailedError('a'),
            {},
            etcd_exc.ConnectionFailedError('b'),
            {},
            {},
        ]
        self.client.delete('/k')
        self.client.delete('/k')
        self.client.delete('/k')
        levels = [line.split()[0] for line in self.log_lines()]
        self.assertEqual(['WARNING', 'INFO', 'WARNING', 'INFO'], levels)

    def test_no_log_without_outage(self):
        self.gateway.post.return_value = {}
        self.client.delete('/k')
        self.assertEqual([], self.log_lines())
        self.assertEqual([], self.clock.sleeps)

    def test_non_retryable_error_is_raised_at_once(self):
        self.gateway.post.side_effect = etcd_exc.PreconditionFailedError(
            'etcdserver: duplicate key given in txn request', 'Bad Request')
        error = self.assertRaises(exception.EtcdError, self.client.txn,
                                  [], [])
        self.assertEqual(
            'etcd request failed: /kv/txn PreconditionFailedError: '
            'etcdserver: duplicate key given in txn request', str(error))
        self.assertEqual(1, self.gateway.post.call_count)
        self.assertEqual([], self.clock.sleeps)
        self.assertEqual([], self.log_lines())

    def test_generic_etcd3_exception_is_not_retried(self):
        self.gateway.post.side_effect = etcd_exc.Etcd3Exception('teapot')
        error = self.assertRaises(exception.EtcdError, self.client.get, '/k')
        self.assertIsInstance(error, exception.ServiceUnavailable)
        self.assertIn('/kv/range Etcd3Exception: teapot', str(error))
        self.assertEqual(1, self.gateway.post.call_count)

    def test_other_exceptions_pass_through(self):
        self.gateway.post.side_effect = ValueError('not JSON')
        self.assertRaises(ValueError, self.client.get, '/k')
        self.assertEqual(1, self.gateway.post.call_count)

    def test_gives_up_after_retry_timeout(self):
        self.config(group='etcd', retry_timeout=0.25)
        self.gateway.post.side_effect = etcd_exc.ConnectionFailedError(
            'refused')
        error = self.assertRaises(exception.EtcdError, self.client.get, '/k')
        self.assertEqual('etcd request failed: /kv/range '
                         'ConnectionFailedError: refused', str(error))
        # Attempts at t=0, 0.1 and 0.3: the third is past the budget.
        self.assertEqual(3, self.gateway.post.call_count)
        self.assertEqual([0.1, 0.2], self.clock.sleeps)
        lines = self.log_lines()
        self.assertEqual(1, len(lines), lines)
        self.assertTrue(lines[0].startswith('WARNING '))

    def test_recovery_logged_after_giving_up(self):
        self.config(group='etcd', retry_timeout=0.05)
        self.gateway.post.side_effect = (
            [etcd_exc.ConnectionFailedError('refused')] * 2 + [{}])
        self.assertRaises(exception.EtcdError, self.client.delete, '/k')
        self.client.delete('/k')
        levels = [line.split()[0] for line in self.log_lines()]
        self.assertEqual(['WARNING', 'INFO'], levels)

    def test_zero_retry_timeout_means_one_attempt(self):
        self.config(group='etcd', retry_timeout=0)
        self.gateway.post.side_effect = etcd_exc.ConnectionFailedError('x')
        self.assertRaises(exception.EtcdError, self.client.delete, '/k')
        self.assertEqual(1, self.gateway.post.call_count)
