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
"""The agent's only door to etcd: its v3 gRPC gateway, through etcd3gw.

etcd3gw is used as the transport (session, TLS, endpoint discovery, error
mapping). Reads and transactions are built here because the agent needs what
the high-level helpers hide: revisions, paginated prefix reads, and
transactions whose keys and values are always UTF-8 bytes, base64-encoded.
Every request is retried with exponential backoff (tenacity) while etcd is
unreachable, for at most ``[etcd] retry_timeout`` seconds; one warning is
logged when an outage starts and one line when it ends.
"""

import base64
import json

import etcd3gw
from etcd3gw import exceptions as etcd_exc
from oslo_log import log as logging
import requests
from requests import adapters
import tenacity

from esi_agent.common import outage
from esi_agent import exception

LOG = logging.getLogger(__name__)

_RETRYABLE = (etcd_exc.ConnectionFailedError,
              etcd_exc.ConnectionTimeoutError,
              etcd_exc.InternalServerError)

#: HTTP connections kept open to etcd: enough for every thread that talks
#: to it at once (RPC dispatch, Heat workers, record writers, sync).
POOL_SIZE = 64


def _retryable(error):
    """Whether an etcd3gw error is an outage worth retrying.

    A TLS failure (a certificate that does not verify, a bad client key)
    is reported by etcd3gw as a connection failure, but it is
    configuration: retrying it for ``retry_timeout`` only hides it.
    """
    if isinstance(error.__context__, requests.exceptions.SSLError):
        return False
    return isinstance(error, _RETRYABLE)


def _session(conf):
    """The HTTP session to etcd, configured from ``[etcd]`` only.

    ``trust_env`` is off: the environment (``REQUESTS_CA_BUNDLE``, proxies,
    ``.netrc``) must not override ``ca_cert`` nor send etcd traffic through
    a proxy, and looking it up on every request costs CPU.
    """
    session = requests.Session()
    session.trust_env = False
    if conf.ca_cert:
        session.verify = conf.ca_cert
    if conf.cert_cert and conf.cert_key:
        session.cert = (conf.cert_cert, conf.cert_key)
    adapter = adapters.HTTPAdapter(pool_connections=1,
                                   pool_maxsize=POOL_SIZE)
    session.mount('http://', adapter)
    session.mount('https://', adapter)
    return session


def _b64(data):
    if isinstance(data, str):
        data = data.encode('utf-8')
    return base64.b64encode(data).decode('ascii')


def _unb64(data):
    return base64.b64decode(data) if data else b''


def prefix_end(prefix):
    """The range_end that selects every key starting with ``prefix``."""
    raw = bytearray(prefix.encode('utf-8'))
    raw[-1] += 1
    return bytes(raw)


def describe(error):
    """The text of an etcd3gw error (kept in ``detail_text``)."""
    return (getattr(error, 'detail_text', None) or str(error)
            or type(error).__name__)


def dumps(value):
    """Encode a JSON record the way the agent stores it (UTF-8 bytes)."""
    return json.dumps(value, ensure_ascii=False).encode('utf-8')


class KeyValue(object):
    """One key of a range or txn response, decoded."""

    __slots__ = ('key', 'value', 'create_revision', 'mod_revision')

    def __init__(self, kv):
        self.key = _unb64(kv.get('key')).decode('utf-8')
        self.value = _unb64(kv.get('value'))
        self.create_revision = int(kv.get('create_revision', 0))
        self.mod_revision = int(kv.get('mod_revision', 0))

    def json(self):
        return json.loads(self.value.decode('utf-8'))


# Builders of transaction operations and comparisons.

def op_put(key, value, lease=None):
    """A put of ``value`` (bytes, str, or a JSON-able record).

    :param lease: attach the key to this lease id.
    """
    if not isinstance(value, (bytes, str)):
        value = dumps(value)
    put = {'key': _b64(key), 'value': _b64(value)}
    if lease:
        put['lease'] = lease
    return {'request_put': put}


def op_delete(key):
    return {'request_delete_range': {'key': _b64(key)}}


def op_range(key):
    return {'request_range': {'key': _b64(key)}}


def op_txn(compare, success, failure=()):
    """A nested transaction (etcd >= 3.3)."""
    return {'request_txn': {'compare': list(compare),
                            'success': list(success),
                            'failure': list(failure)}}


def cmp_missing(key):
    """True when ``key`` does not exist."""
    return {'key': _b64(key), 'target': 'CREATE', 'result': 'EQUAL',
            'create_revision': 0}


def cmp_value_equal(key, value):
    """True when ``key`` exists and holds ``value``."""
    return {'key': _b64(key), 'target': 'VALUE', 'result': 'EQUAL',
            'value': _b64(value)}


def cmp_value_less(key, value):
    """True when ``key`` exists and its value sorts before ``value``."""
    return {'key': _b64(key), 'target': 'VALUE', 'result': 'LESS',
            'value': _b64(value)}


class TxnResult(object):
    """The decoded answer of a transaction."""

    def __init__(self, response):
        self.raw = response
        self.succeeded = bool(response.get('succeeded', False))
        self.revision = int(response.get('header', {}).get('revision', 0))
        self.responses = response.get('responses', [])

    def nested(self, index):
        """The TxnResult of the nested transaction at ``index``."""
        return TxnResult(self.responses[index].get('response_txn', {}))

    def range_kvs(self, index):
        """The key-values of the range response at ``index``."""
        body = self.responses[index].get('response_range', {})
        return [KeyValue(kv) for kv in body.get('kvs', [])]


class EtcdClient(object):
    """A thread-safe etcd client configured from the ``[etcd]`` group."""

    PAGE_SIZE = 500

    def __init__(self, conf):
        self._conf = conf.etcd
        self._client = etcd3gw.client(
            host=self._conf.host, port=self._conf.port,
            protocol=self._conf.protocol, timeout=self._conf.timeout,
            session=_session(self._conf))
        self.outage = outage.OutageLog('etcd at %s' % self.endpoint, LOG)
        self.txn_count = 0
        self.request_count = 0
        # Requests (attempts) that failed: for the metrics.
        self.error_count = 0

    @property
    def endpoint(self):
        return '%s://%s:%s' % (self._conf.protocol, self._conf.host,
                               self._conf.port)

    def _outage_started(self, retry_state):
        self.outage.failed(describe(retry_state.outcome.exception()),
                           'retrying with backoff for up to %s s'
                           % self._conf.retry_timeout)

    def _request(self, path, body):
        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception(_retryable),
            wait=tenacity.wait_exponential(multiplier=0.1, max=5),
            stop=tenacity.stop_after_delay(self._conf.retry_timeout),
            before_sleep=self._outage_started,
            reraise=True)
        try:
            for attempt in retrying:
                with attempt:
                    self.request_count += 1
                    try:
                        result = self._client.post(
                            self._client.get_url(path),
                            data=json.dumps(body))
                    except etcd_exc.Etcd3Exception:
                        self.error_count += 1
                        raise
        except etcd_exc.Etcd3Exception as e:
            raise exception.EtcdError(reason='%s %s: %s' % (
                path, type(e).__name__, describe(e)))
        self.outage.answered()
        return result

    def ping(self):
        """Raise EtcdError unless etcd answers (no retries)."""
        try:
            self._client.status()
        except etcd_exc.Etcd3Exception as e:
            raise exception.EtcdError(reason=describe(e))

    def get(self, key, revision=None):
        """The KeyValue at ``key`` (as it was at ``revision``), or None."""
        body = {'key': _b64(key)}
        if revision:
            body['revision'] = revision
        kvs = self._request('/kv/range', body).get('kvs', [])
        return KeyValue(kvs[0]) if kvs else None

    def get_json(self, key, revision=None):
        """The JSON record at ``key`` (as it was at ``revision``), or None."""
        kv = self.get(key, revision)
        return kv.json() if kv is not None else None

    def get_prefix(self, prefix):
        """Yield every KeyValue under ``prefix`` in key order.

        Pages through the range at one revision, so the result is a
        consistent snapshot even when the prefix holds many keys.
        """
        return iter(self.snapshot(prefix)[0])

    def snapshot(self, prefix, revision=None, min_mod_revision=None):
        """The keys under ``prefix`` at one revision, paged.

        :param revision: read at this revision (default: the latest).
        :param min_mod_revision: only keys changed at or after it.
        :returns: ``(list of KeyValue, revision read)``.
        """
        start = prefix.encode('utf-8')
        end = _b64(prefix_end(prefix))
        found = []
        while True:
            body = {'key': _b64(start), 'range_end': end,
                    'limit': self.PAGE_SIZE}
            if revision:
                body['revision'] = revision
            if min_mod_revision:
                body['min_mod_revision'] = min_mod_revision
            result = self._request('/kv/range', body)
            revision = revision or int(result['header']['revision'])
            kvs = [KeyValue(kv) for kv in result.get('kvs', [])]
            found.extend(kvs)
            if not result.get('more') or not kvs:
                return found, revision
            start = kvs[-1].key.encode('utf-8') + b'\x00'

    def prefix_stat(self, prefix):
        """How many keys are under ``prefix``, and their latest change.

        One small request (keys only, one key returned). Any put under the
        prefix raises the latest mod_revision and any delete alone lowers
        the count, so an equal pair means that nothing under the prefix
        changed in between.

        :returns: ``(count, highest mod_revision)``, ``(0, 0)`` when empty.
        """
        result = self._request('/kv/range', {
            'key': _b64(prefix), 'range_end': _b64(prefix_end(prefix)),
            'limit': 1, 'sort_order': 'DESCEND', 'sort_target': 'MOD',
            'keys_only': True})
        kvs = result.get('kvs', [])
        return (int(result.get('count', 0)),
                KeyValue(kvs[0]).mod_revision if kvs else 0)

    # Leases

    def grant_lease(self, ttl):
        """A new lease of ``ttl`` seconds; returns its id."""
        result = self._request('/lease/grant', {'TTL': ttl, 'ID': 0})
        return int(result['ID'])

    def refresh_lease(self, lease_id):
        """Keep a lease alive; returns its TTL, 0 when it has expired."""
        result = self._request('/lease/keepalive', {'ID': lease_id})
        return int(result.get('result', {}).get('TTL', 0))

    def revoke_lease(self, lease_id):
        self._request('/kv/lease/revoke', {'ID': lease_id})

    def put(self, key, value):
        self._request('/kv/put', {'key': _b64(key),
                                  'value': _b64(value if isinstance(
                                      value, (bytes, str)) else dumps(value))})

    def delete(self, key):
        self._request('/kv/deleterange', {'key': _b64(key)})

    def txn(self, compare, success, failure=()):
        """Run one transaction; returns a :class:`TxnResult`."""
        self.txn_count += 1
        return TxnResult(self._request('/kv/txn', {
            'compare': list(compare), 'success': list(success),
            'failure': list(failure)}))
