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
"""``esi-agent-manage jobs ...``: the jobs stored in etcd.

A job record is ``/esi-agent/jobs/<id>`` and the agent that runs an
unfinished job holds ``/esi-agent/claims/<id>`` (see
:mod:`esi_agent.jobs.store`).
"""

import time

from cliff import lister
from cliff import show

from esi_agent import etcd
from esi_agent.jobs import store
from esi_agent.manage import base

STATES = (store.PENDING,) + store.FINAL_STATUSES
COLUMNS = ('id', 'resource', 'action', 'version', 'state', 'owner',
           'received_at', 'finished_at', 'error')
# Deletes per purge transaction (etcd allows 128 operations by default).
PURGE_BATCH = 64


def _resource(job):
    return '%s/%s' % (job.get('resource_type'), job.get('resource_id'))


def row(stored, owner):
    """The COLUMNS of one StoredJob."""
    job = stored.job
    return (job.get('id'), _resource(job), job.get('action'),
            job.get('version'), stored.status, owner or '',
            base.Timestamp(stored.received_at),
            base.Timestamp(stored.finished_at), base.Text(stored.error))


def read_job(client, job_id):
    """``(KeyValue, StoredJob, claim owner)`` of one job, read at once."""
    result = client.txn(compare=[], success=[
        etcd.op_range(store.job_key(job_id)),
        etcd.op_range(store.claim_key(job_id))])
    kvs = result.range_kvs(0)
    if not kvs:
        raise base.ManageError('No job %s' % job_id)
    claim = result.range_kvs(1)
    return (kvs[0], store.StoredJob(kvs[0].json(), kvs[0].create_revision),
            claim[0].value.decode('utf-8') if claim else None)


class List(lister.Lister):
    """List the jobs stored in etcd, in arrival order."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument(
            '--state', action='append', choices=STATES, type=str.upper,
            help='Only jobs in this state; may be repeated.')
        parser.add_argument(
            '--resource', type=base.resource, metavar='TYPE[/ID]',
            help='Only the jobs of this resource type (singular, as in '
                 'the job: port), or of this one resource.')
        parser.add_argument(
            '--older-than', type=base.seconds, metavar='SECONDS',
            help='Only jobs received more than SECONDS ago.')
        parser.add_argument(
            '--newer-than', type=base.seconds, metavar='SECONDS',
            help='Only jobs received less than SECONDS ago.')
        return parser

    def take_action(self, parsed_args):
        stored_jobs, owners, _rev = self.app.store.snapshot()
        now = time.time()
        rows = []
        for stored in stored_jobs:
            if not _selected(stored, parsed_args, now):
                continue
            rows.append(row(stored, owners.get(stored.job.get('id'))))
        return COLUMNS, rows


def _selected(stored, args, now):
    job = stored.job
    if args.state and stored.status not in args.state:
        return False
    if args.resource:
        rtype, rid = args.resource
        if job.get('resource_type') != rtype or (
                rid and job.get('resource_id') != rid):
            return False
    age = now - (stored.received_at or 0)
    if args.older_than is not None and age <= args.older_than:
        return False
    if args.newer_than is not None and age >= args.newer_than:
        return False
    return True


class Show(show.ShowOne):
    """Show one job: its state, owner and body (secrets masked)."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('id', help='The job id.')
        return parser

    def take_action(self, parsed_args):
        kv, stored, owner = read_job(self.app.etcd, parsed_args.id)
        columns = COLUMNS + ('arrival_revision', 'job')
        return columns, row(stored, owner) + (
            kv.create_revision, base.Json(base.masked_job(stored.job)))


class Retry(lister.Lister):
    """Put FAILED jobs back to PENDING so that an agent runs them again.

    The jobs are rewritten in one etcd transaction, unclaimed: the agent
    the hash ring names takes each over, as it takes over the jobs of a
    dead agent, and runs it as a job received now (its dependencies get a
    new [agent] dependency_timeout). Retry a job's failed dependencies in
    the same command. A job rejected at intake (invalid) cannot be
    retried: the ESI API has to send a corrected one.
    """

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('ids', nargs='+', metavar='ID',
                            help='The id of a FAILED job.')
        return parser

    def take_action(self, parsed_args):
        client = self.app.etcd
        now = time.time()
        compare, writes = [], []
        for job_id in dict.fromkeys(parsed_args.ids):
            kv, stored, owner = read_job(client, job_id)
            if stored.status != store.FAILED:
                raise base.ManageError(
                    'Job %s is %s: only a FAILED job can be retried'
                    % (job_id, stored.status))
            if 'as_received' in stored.job:
                raise base.ManageError(
                    'Job %s was rejected at intake (invalid): the ESI API '
                    'must send a corrected job' % job_id)
            if owner:
                raise base.ManageError('Job %s is still claimed by agent %s'
                                       % (job_id, owner))
            compare += [etcd.cmp_value_equal(kv.key, kv.value),
                        etcd.cmp_missing(store.claim_key(job_id))]
            writes.append(etcd.op_put(kv.key, store.job_record(
                stored.job, store.PENDING, now,
                attempt=stored.attempt + 1)))
        if not client.txn(compare=compare, success=writes).succeeded:
            raise base.ManageError('A job changed while it was being put '
                                   'back; nothing was changed, try again')
        return ('id', 'state'), [(job_id, store.PENDING)
                                 for job_id in dict.fromkeys(parsed_args.ids)]


class Purge(show.ShowOne):
    """Delete the finished jobs that finished more than SECONDS ago.

    COMPLETED, FAILED and SUPERSEDED jobs only; a PENDING job is never
    deleted. Records are kept. A purged job id cast again runs again, and a
    job that names a purged job in its dependency waits for it: purge only
    what the ESI API will not send or refer to again.
    """

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument(
            '--older-than', type=base.seconds, required=True,
            metavar='SECONDS',
            help='Delete the jobs that finished more than SECONDS ago.')
        parser.add_argument(
            '--dry-run', action='store_true',
            help='Count what would be deleted; delete nothing.')
        return parser

    def take_action(self, parsed_args):
        client = self.app.etcd
        now = time.time()
        kvs, _rev = client.snapshot(store.JOBS_PREFIX)
        chosen = []
        for kv in kvs:
            try:
                stored = store.StoredJob(kv.json(), kv.create_revision)
            except (ValueError, KeyError, TypeError):
                continue
            finished = stored.finished_at or stored.received_at or 0
            if (stored.status in store.FINAL_STATUSES
                    and now - finished > parsed_args.older_than):
                chosen.append((kv, stored.status))
        if parsed_args.dry_run:
            purged = [status for _kv, status in chosen]
        else:
            purged = _delete(client, chosen)
        counts = {state: purged.count(state) for state in
                  store.FINAL_STATUSES}
        return (('dry_run', 'purged') + store.FINAL_STATUSES,
                (parsed_args.dry_run, len(purged))
                + tuple(counts[s] for s in store.FINAL_STATUSES))


def _delete(client, chosen):
    """Delete the chosen jobs unless they changed; their states."""
    deleted = []
    for start in range(0, len(chosen), PURGE_BATCH):
        batch = chosen[start:start + PURGE_BATCH]
        if not _delete_batch(client, batch):
            # One of them changed (put back by a retry): one at a time.
            batch = [one for one in batch if _delete_batch(client, [one])]
        deleted += [status for _kv, status in batch]
    return deleted


def _delete_batch(client, batch):
    return client.txn(
        compare=[etcd.cmp_value_equal(kv.key, kv.value) for kv, _s in batch],
        success=[etcd.op_delete(kv.key) for kv, _s in batch]).succeeded
