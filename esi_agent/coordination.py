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
"""Several agents, active-active: membership, lease and hash ring.

Every agent joins one tooz group (etcd3gw driver, on the etcd of
``[etcd]``); a tooz hash ring over the members says which agent takes over
an orphaned job, so that exactly one of them claims it. Claims are keys on
the agent's own etcd lease, kept alive here: when an agent dies, its lease
expires after ``[agent] lease_ttl`` and its claims vanish.
"""

import threading
from urllib import parse

from oslo_log import log as logging
from tooz import coordination as tooz_coordination
from tooz import hashring

from esi_agent import exception

LOG = logging.getLogger(__name__)


def backend_url(conf):
    """The tooz URL of the etcd of ``[etcd]``."""
    options = {'timeout': int(max(conf.etcd.timeout, 1)),
               'membership_timeout': conf.agent.lease_ttl}
    for name in ('ca_cert', 'cert_cert', 'cert_key'):
        if getattr(conf.etcd, name):
            options[name] = getattr(conf.etcd, name)
    return 'etcd3+%s://%s:%s?%s' % (
        conf.etcd.protocol, conf.etcd.host, conf.etcd.port,
        parse.urlencode(options))


def _describe(error):
    return '%s: %s' % (type(error).__name__, error) if str(error) else (
        type(error).__name__)


class Coordinator(object):
    """This agent's lease, its group membership and the hash ring."""

    def __init__(self, conf, member_id, client):
        self._conf = conf
        self.member_id = member_id
        self._etcd = client
        self._group = conf.agent.coordination_group.encode('utf-8')
        self._tooz = None
        self._lease = None
        self._lease_lock = threading.Lock()
        self._ring = hashring.HashRing([member_id.encode('utf-8')])
        self._members = {member_id.encode('utf-8')}
        self._stopping = threading.Event()
        self._thread = None

    # Lease

    def lease(self):
        """The id of this agent's current lease (granted on first use)."""
        with self._lease_lock:
            if self._lease is None:
                self._lease = self._etcd.grant_lease(
                    self._conf.agent.lease_ttl)
            return self._lease

    def _keep_lease(self):
        """Refresh the lease; grant a new one when it expired.

        :returns: True when the lease had expired (claims were lost).
        """
        lease = self.lease()
        if self._etcd.refresh_lease(lease) > 0:
            return False
        LOG.warning('The etcd lease of agent %s expired (etcd was '
                    'unreachable for more than %d s); its jobs may have '
                    'been taken over', self.member_id,
                    self._conf.agent.lease_ttl)
        with self._lease_lock:
            self._lease = None
        self.lease()
        return True

    # Membership and hash ring

    def start(self):
        self._tooz = tooz_coordination.get_coordinator(
            backend_url(self._conf), self.member_id.encode('utf-8'))
        # No tooz heart thread: it retries a heartbeat forever, once a
        # second with a warning each time, and cannot be stopped while etcd
        # is down. The loop below beats, once per round.
        self._tooz.start(start_heart=False)
        self._join()
        self._refresh_members()
        self._thread = threading.Thread(target=self._loop,
                                        name='esi-agent-coordination',
                                        daemon=True)
        self._thread.start()

    def _join(self):
        try:
            self._tooz.create_group(self._group).get()
        except tooz_coordination.GroupAlreadyExist:
            pass
        try:
            self._tooz.join_group(self._group).get()
        except tooz_coordination.MemberAlreadyExist:
            pass

    def _refresh_members(self):
        members = set(self._tooz.get_members(self._group).get())
        me = self.member_id.encode('utf-8')
        if me not in members:
            # Our membership lease expired with an etcd outage: join again.
            self._join()
            members.add(me)
        if members != self._members:
            LOG.info('Agents alive: %s', ', '.join(
                sorted(m.decode('utf-8') for m in members)))
            self._members = members
            self._ring = hashring.HashRing(members)

    def owns(self, job_id):
        """Whether the hash ring gives ``job_id`` to this agent."""
        nodes = self._ring.get_nodes(job_id.encode('utf-8'))
        return self.member_id.encode('utf-8') in nodes

    def members(self):
        return sorted(m.decode('utf-8') for m in self._members)

    def _loop(self):
        interval = max(self._conf.agent.lease_ttl / 3.0, 0.5)
        failing = False
        while not self._stopping.wait(interval):
            try:
                self._keep_lease()
                self._tooz.heartbeat()
                self._refresh_members()
            except Exception as e:
                # Whatever fails (tooz lets etcd3gw's errors of heartbeat()
                # through untranslated), this thread must go on: without
                # it the lease expires and the hash ring goes stale.
                if not failing:
                    LOG.warning('Cannot renew the lease and membership of '
                                'agent %(me)s (%(err)s); retrying every '
                                '%(i).1f s', {'me': self.member_id,
                                              'err': _describe(e),
                                              'i': interval})
                failing = True
                continue
            if failing:
                LOG.info('Lease and membership of agent %s renewed again',
                         self.member_id)
                failing = False

    def stop(self):
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()
        if self._tooz is not None:
            try:
                self._tooz.leave_group(self._group).get()
            except tooz_coordination.ToozError:
                pass
            self._tooz.stop()
        if self._lease is not None:
            try:
                self._etcd.revoke_lease(self._lease)
            except exception.EtcdError:
                pass
