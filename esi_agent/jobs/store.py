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
"""Jobs and records in etcd.

Keys of the agent's own (the records of SPEC section 5 are in
:mod:`esi_agent.records`):

``/esi-agent/jobs/<job id>``
    The job as received, with its status. Written once at intake (the
    transaction fails when the id is already there: a job is taken once) and
    once at completion. Its create revision is the job's place in the
    arrival order that the scheduler follows.
``/esi-agent/claims/<job id>``
    Which agent owns an unfinished job: its host name, on that agent's
    lease. Written with the job at intake, deleted with its completion;
    when an agent dies its lease expires, its claims vanish and the agent
    the hash ring names claims the job again.
``/esi-agent/versions/<plural>/<resource id>``
    The version of the records last written for a resource, as a zero-padded
    decimal so that etcd can compare it in a transaction: the completion
    transaction writes the three records only when this value is not above
    the job's version.
"""

import time

from oslo_log import log as logging

from esi_agent import etcd
from esi_agent import records

LOG = logging.getLogger(__name__)

JOBS_PREFIX = '/esi-agent/jobs/'
CLAIMS_PREFIX = '/esi-agent/claims/'
VERSIONS_PREFIX = '/esi-agent/versions/'

PENDING = 'PENDING'
COMPLETED = 'COMPLETED'
FAILED = 'FAILED'
SUPERSEDED = 'SUPERSEDED'
FINAL_STATUSES = (COMPLETED, FAILED, SUPERSEDED)


def job_key(job_id):
    return JOBS_PREFIX + job_id


def claim_key(job_id):
    return CLAIMS_PREFIX + job_id


def version_key(resource_type, resource_id):
    return VERSIONS_PREFIX + records.resource_path(resource_type,
                                                   resource_id)


def padded(version):
    return '%020d' % version


class StoredJob(object):
    """A job record read back from etcd."""

    __slots__ = ('job', 'status', 'error', 'received_at', 'finished_at',
                 'arrival', 'attempt')

    def __init__(self, record, arrival):
        self.job = record['job']
        self.status = record.get('status', PENDING)
        self.error = record.get('error', '')
        self.received_at = record.get('received_at', 0.0)
        self.finished_at = record.get('finished_at')
        self.arrival = arrival
        # How many times an operator put it back to run again.
        self.attempt = record.get('attempt', 0)


def job_record(job, status, received_at, error='', finished_at=None,
               attempt=0):
    record = {'job': job, 'status': status, 'received_at': received_at,
              'error': error}
    if finished_at is not None:
        record['finished_at'] = finished_at
    if attempt:
        record['attempt'] = attempt
    return record


class ClaimLost(Exception):
    """Another agent owns the job now; this one must let it go."""


class JobStore(object):
    """Reads and writes jobs and records; every write is one transaction.

    :param owner: this agent's name, the value of its claims.
    :param lease: callable returning the id of this agent's lease.
    """

    def __init__(self, client, owner=None, lease=None):
        self.etcd = client
        self.owner = owner
        self._lease = lease or (lambda: None)

    def intake(self, job, received_at):
        """Persist a new job, claimed by this agent, unless its id is known.

        :returns: ``(arrival, None)`` for a new job, where ``arrival`` is
            the revision of the write; ``(None, StoredJob)`` when the id was
            seen before.
        """
        key = job_key(job['id'])
        writes = [etcd.op_put(key, job_record(job, PENDING, received_at))]
        if self.owner:
            writes.append(etcd.op_put(claim_key(job['id']), self.owner,
                                      lease=self._lease()))
        result = self.etcd.txn(
            compare=[etcd.cmp_missing(key)],
            success=writes,
            failure=[etcd.op_range(key)])
        if result.succeeded:
            return result.revision, None
        kvs = result.range_kvs(0)
        seen = StoredJob(kvs[0].json(), kvs[0].create_revision)
        if seen.status == PENDING and seen.received_at == received_at:
            # Our own write, answered too late and retried: not a copy.
            return seen.arrival, None
        return None, seen

    def claim(self, job_id, previous=None):
        """Claim a job whose claim vanished (or was ours, on an old lease).

        :param previous: the claim's current value to replace, or None
            for a missing claim.
        :returns: True when this agent now owns the job.
        """
        key = claim_key(job_id)
        compare = (etcd.cmp_value_equal(key, previous) if previous
                   else etcd.cmp_missing(key))
        return self.etcd.txn(
            compare=[compare],
            success=[etcd.op_put(key, self.owner, lease=self._lease())],
        ).succeeded

    def snapshot(self, since=None, claims=True):
        """Jobs changed since revision ``since`` and all claims, at once.

        :param claims: read the claims too (else ``None`` for them).
        :returns: ``(list of StoredJob, {job id: owner}, revision)``.
        """
        kvs, revision = self.etcd.snapshot(
            JOBS_PREFIX, min_mod_revision=since + 1 if since else None)
        jobs = []
        for kv in kvs:
            try:
                jobs.append(StoredJob(kv.json(), kv.create_revision))
            except (ValueError, KeyError, TypeError):
                LOG.error('Ignoring the unreadable job record %s', kv.key)
        owners = None
        if claims:
            kvs, _rev = self.etcd.snapshot(CLAIMS_PREFIX, revision=revision)
            owners = {kv.key[len(CLAIMS_PREFIX):]: kv.value.decode('utf-8')
                      for kv in kvs}
        jobs.sort(key=lambda s: s.arrival)
        return jobs, owners, revision

    def outputs(self, resource_type, resource_id):
        """The latest ``heat_outputs`` of a resource, or None."""
        record = self.etcd.get_json(
            records.job_state_key(resource_type, resource_id))
        if record is None:
            return None
        return record.get('heat_outputs') or []

    def has_records(self, resource_type, resource_id):
        return self.etcd.get(
            records.job_state_key(resource_type, resource_id)) is not None

    def finish(self, job, resource_records, status, received_at, error='',
               claimed=True, attempt=0):
        """Write a job's records and final status in one transaction.

        The records are written only when no higher version of the resource
        was recorded before; otherwise the job is stored as SUPERSEDED and
        nothing else changes. The job's claim goes with its completion.

        :param resource_records: dict of etcd key to record.
        :param status: COMPLETED or FAILED.
        :param claimed: the job was claimed by this agent (False for a job
            rejected at intake, which was never stored).
        :param attempt: kept in the job's record (see ``jobs retry``).
        :returns: True when the records were written.
        :raises: ClaimLost when another agent owns the job now.
        """
        rtype, rid = job['resource_type'], job['resource_id']
        version = job.get('version')
        if isinstance(version, bool) or not isinstance(version, int):
            version = 0
        vkey = version_key(rtype, rid)
        writes = [etcd.op_put(k, v) for k, v in resource_records.items()]
        if version:
            writes.append(etcd.op_put(vkey, padded(version)))
        owned = []
        if isinstance(job.get('id'), str):
            writes.append(etcd.op_put(job_key(job['id']), job_record(
                job, status, received_at, error, finished_at=time.time(),
                attempt=attempt)))
            if claimed and self.owner:
                ckey = claim_key(job['id'])
                owned = [etcd.cmp_value_equal(ckey, self.owner)]
                writes.append(etcd.op_delete(ckey))
        # Either the resource has never been recorded, or its recorded
        # version is <= ours (etcd has no LESS_EQUAL: compare to v + 1).
        result = self.etcd.txn(
            compare=owned + [etcd.cmp_missing(vkey),
                             etcd.cmp_missing(records.state_key(rtype, rid))],
            success=writes,
            failure=[etcd.op_txn(
                compare=owned + [etcd.cmp_value_less(
                    vkey, padded(version + 1))],
                success=writes,
                failure=[etcd.op_range(vkey)] + (
                    [etcd.op_range(claim_key(job['id']))] if owned else []))])
        if result.succeeded or result.nested(0).succeeded:
            return True
        nested = result.nested(0)
        if owned:
            claim = nested.range_kvs(1)
            if not claim or claim[0].value.decode('utf-8') != self.owner:
                raise ClaimLost(job['id'])
        kvs = nested.range_kvs(0)
        if not kvs and self._adopt_legacy_version(rtype, rid):
            return self.finish(job, resource_records, status, received_at,
                               error, claimed, attempt)
        recorded = int(kvs[0].value) if kvs else None
        LOG.info('Job %(job)s: version %(v)s of %(res)s not recorded, '
                 'version %(rec)s is already recorded',
                 {'job': job.get('id'), 'v': version, 'rec': recorded,
                  'res': records.resource_path(rtype, rid)})
        self.mark(job, SUPERSEDED, received_at,
                  error='version %s is already recorded' % recorded,
                  claimed=claimed, attempt=attempt)
        return False

    def _adopt_legacy_version(self, rtype, rid):
        """Create the version key of a resource recorded by the old worker.

        :returns: True when a version key was created.
        """
        state = self.etcd.get_json(records.state_key(rtype, rid)) or {}
        version = state.get('version')
        if isinstance(version, bool) or not isinstance(version, int):
            version = 0
        vkey = version_key(rtype, rid)
        self.etcd.txn(compare=[etcd.cmp_missing(vkey)],
                      success=[etcd.op_put(vkey, padded(version))])
        return True

    def mark(self, job, status, received_at, error='', claimed=True,
             attempt=0):
        """Store a job's final status without touching any record.

        :raises: ClaimLost when another agent owns the job now.
        """
        writes = [etcd.op_put(job_key(job['id']), job_record(
            job, status, received_at, error, finished_at=time.time(),
            attempt=attempt))]
        compare = []
        if claimed and self.owner:
            ckey = claim_key(job['id'])
            compare = [etcd.cmp_value_equal(ckey, self.owner)]
            writes.append(etcd.op_delete(ckey))
        if not self.etcd.txn(compare=compare, success=writes).succeeded:
            raise ClaimLost(job['id'])
