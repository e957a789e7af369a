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
"""Real services for functional tests: etcd (Debian etcd-server) and
RabbitMQ, plus a helper to wait on a condition with a deadline.

etcd is started once per test process on free loopback ports with a
temporary data directory, and stopped when the process exits; tests wipe
its keys instead of restarting it. RabbitMQ is the broker of
``ESI_TEST_TRANSPORT_URL`` (default: the local one); each test uses its own
RPC topic.
"""

import atexit
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import requests

TRANSPORT_URL = os.environ.get('ESI_TEST_TRANSPORT_URL',
                               'rabbit://guest:guest@127.0.0.1:5672/')
ETCD_BIN = os.environ.get('ESI_TEST_ETCD_BIN', 'etcd')


class Timeout(AssertionError):
    pass


def wait_for(predicate, timeout=30.0, interval=0.05, what='the condition'):
    """Poll ``predicate`` until it returns a true value; return that value.

    :raises Timeout: when ``timeout`` seconds pass first.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise Timeout('timed out after %.1f s waiting for %s'
                          % (timeout, what))
        time.sleep(interval)


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def port_open(host, port, timeout=1.0):
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


class EtcdServer(object):
    """An etcd process on loopback with a throw-away data directory."""

    def __init__(self, extra_args=(), scheme='http', client_cert=None):
        self.port = free_port()
        self.peer_port = free_port()
        self.scheme = scheme
        self._extra = list(extra_args)
        self._client_cert = client_cert
        # Not in tempfile's current directory: oslotest points that at a
        # per-test directory removed when the test ends, and the shared etcd
        # outlives the test that started it.
        self.data_dir = tempfile.mkdtemp(
            prefix='esi-etcd-', dir=os.environ.get('TMPDIR') or '/tmp')
        self.proc = None
        # A forked copy of the test process must not stop our etcd when
        # it exits (atexit handlers run in a child that exits normally).
        self._owner = os.getpid()

    @property
    def url(self):
        return '%s://127.0.0.1:%d' % (self.scheme, self.port)

    def start(self, timeout=20):
        if shutil.which(ETCD_BIN) is None:
            raise RuntimeError('%s not found: install the Debian package '
                               'etcd-server' % ETCD_BIN)
        peer = 'http://127.0.0.1:%d' % self.peer_port
        self._log = open(os.path.join(self.data_dir, 'etcd.log'), 'wb')
        self.proc = subprocess.Popen(
            [ETCD_BIN, '--name', 'esi-test',
             '--data-dir', os.path.join(self.data_dir, 'data'),
             '--listen-client-urls', self.url,
             '--advertise-client-urls', self.url,
             '--listen-peer-urls', peer,
             '--initial-advertise-peer-urls', peer,
             '--initial-cluster', 'esi-test=' + peer] + self._extra,
            stdout=self._log, stderr=subprocess.STDOUT)
        wait_for(self.healthy, timeout, 0.05, 'etcd at %s' % self.url)
        return self

    def healthy(self):
        if self.proc.poll() is not None:
            raise RuntimeError('etcd exited with %s; see %s/etcd.log'
                               % (self.proc.returncode, self.data_dir))
        kwargs = {}
        if self.scheme == 'https':
            kwargs = {'verify': self._client_cert[0],
                      'cert': self._client_cert[1:]}
        try:
            return requests.get(self.url + '/health', timeout=1,
                                **kwargs).ok
        except requests.RequestException:
            return False

    def stop(self):
        if os.getpid() != self._owner:
            return
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def cleanup(self):
        if os.getpid() != self._owner:
            return
        self.stop()
        shutil.rmtree(self.data_dir, ignore_errors=True)

    def log_tail(self, lines=20):
        try:
            with open(os.path.join(self.data_dir, 'etcd.log'),
                      errors='replace') as f:
                return ''.join(f.readlines()[-lines:])
        except OSError:
            return '(no log)'

    def wipe(self):
        """Delete every key."""
        requests.post(self.url + '/v3/kv/deleterange',
                      json={'key': 'AA==', 'range_end': 'AA=='},
                      timeout=10).raise_for_status()


_SHARED_ETCD = None


def shared_etcd():
    """The etcd of this test process, started on first use.

    One that died (killed from outside the test run) is reported with the
    end of its log and replaced by a new one.
    """
    global _SHARED_ETCD
    if _SHARED_ETCD is not None and _SHARED_ETCD.proc.poll() is not None:
        sys.stderr.write('etcd %s exited with %s; its log ends with:\n%s\n'
                         % (_SHARED_ETCD.url, _SHARED_ETCD.proc.returncode,
                            _SHARED_ETCD.log_tail()))
        _SHARED_ETCD.cleanup()
        _SHARED_ETCD = None
    if _SHARED_ETCD is None:
        _SHARED_ETCD = EtcdServer().start()
        atexit.register(_SHARED_ETCD.cleanup)
    return _SHARED_ETCD


def rabbit_available():
    from urllib import parse
    url = parse.urlparse(TRANSPORT_URL)
    return port_open(url.hostname or '127.0.0.1', url.port or 5672)


def delete_queues(names, transport_url=None):
    """Delete RabbitMQ queues a test declared (they outlive consumers).

    A queue that does not exist is no error.
    """
    from urllib import parse

    import kombu

    url = parse.urlparse(transport_url or TRANSPORT_URL)
    with kombu.Connection(
            hostname=url.hostname or '127.0.0.1', port=url.port or 5672,
            userid=parse.unquote(url.username or 'guest'),
            password=parse.unquote(url.password or 'guest'),
            virtual_host=parse.unquote(url.path[1:]) or '/',
            connect_timeout=10) as conn:
        channel = conn.channel()
        try:
            for name in names:
                channel.queue_delete(name)
        finally:
            channel.close()


class PrivateRabbit(object):
    """A RabbitMQ node of a test's own, which it may stop and restart.

    Started by ``tools/services/rabbitmq`` (own node name, port, and state
    in a directory of its own that the ``rabbitmq`` user can reach), so that
    restarting it disturbs no other test.
    """

    SCRIPT = os.path.join(os.path.dirname(__file__), os.pardir, os.pardir,
                          'tools', 'services', 'rabbitmq')

    def __init__(self):
        # The node's distribution port is its port + 20000.
        self.port = next(p for p in range(5700, 5900)
                         if not port_open('127.0.0.1', p, 0.2)
                         and not port_open('127.0.0.1', p + 20000, 0.2))
        self.run_dir = tempfile.mkdtemp(
            prefix='esi-rabbit-', dir=os.environ.get('TMPDIR') or '/tmp')
        os.chmod(self.run_dir, 0o755)
        self._env = dict(os.environ, ESI_RUN_DIR=self.run_dir,
                         ESI_RABBITMQ_PORT=str(self.port))
        self.transport_url = 'rabbit://guest:guest@127.0.0.1:%d/' % self.port

    def _run(self, action):
        done = subprocess.run([self.SCRIPT, action], env=self._env,
                              stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, timeout=120)
        if done.returncode:
            raise RuntimeError('tools/services/rabbitmq %s failed: %s' % (
                action, done.stderr.decode(errors='replace')))

    def start(self):
        self._run('start')
        return self

    def stop(self):
        self._run('stop')

    def cleanup(self):
        try:
            self.stop()
        finally:
            shutil.rmtree(self.run_dir, ignore_errors=True)

    def available(self):
        return shutil.which('rabbitmq-server') is not None
