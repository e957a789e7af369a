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
"""Job intake: validate, persist, hand over to the runner.

A cast is acknowledged by oslo.messaging before it is dispatched, so nothing
happens to a job before it is stored in etcd: a job that dies with the
process after this point is resumed on restart; one that dies before it was
never taken.
"""

import time

from oslo_log import log as logging

from esi_agent import exception
from esi_agent.jobs import scheduler
from esi_agent.jobs import schema
from esi_agent.jobs import store
from esi_agent import records

LOG = logging.getLogger(__name__)


class Intake(object):

    def __init__(self, conf, job_store, runner):
        self._conf = conf
        self._store = job_store
        self._runner = runner
        # What came in, for logs, tests and the manage CLI.
        self.stats = {'accepted': 0, 'duplicates': 0, 'rejected': 0,
                      'dropped': 0}

    def accept(self, job):
        """Take one job from the bus. Never raises on bad input.

        :returns: the JobEntry of a new valid job, else None.
        """
        received_at = time.time()
        try:
            self._check_size(job)
            schema.validate(job)
        except exception.InvalidJob as e:
            self._reject(job, e, received_at)
            return None
        arrival, seen = self._store.intake(job, received_at)
        if seen is not None:
            self.stats['duplicates'] += 1
            LOG.info('Job %(id)s was received before (%(status)s); '
                     'ignoring this copy', {'id': job['id'],
                                            'status': seen.status})
            return None
        entry = scheduler.JobEntry(job, arrival, received_at)
        self.stats['accepted'] += 1
        LOG.info('Job %(id)s accepted: %(action)s %(type)s %(rid)s '
                 'version %(v)s', {'id': entry.id, 'action': job['action'],
                                   'type': job['resource_type'],
                                   'rid': job['resource_id'],
                                   'v': job['version']})
        self._runner.add(entry)
        return entry

    def _check_size(self, job):
        # Measured as the store encodes it; checked as strict UTF-8 JSON
        # (no lone surrogates, NaN or Infinity), which etcd and the other
        # readers of the records can hold.
        size = len(schema.encode(job))
        if size > self._conf.agent.max_job_size:
            raise exception.InvalidJob(
                reason='job is %d bytes, more than max_job_size (%d)'
                % (size, self._conf.agent.max_job_size))

    def _reject(self, job, error, received_at):
        identity = schema.identity(job)
        job_id = job.get('id') if isinstance(job, dict) else None
        if identity is None:
            self.stats['dropped'] += 1
            LOG.error('Dropped a job that names no usable resource '
                      '(job id %(id)r): %(err)s',
                      {'id': str(job_id)[:128], 'err': error})
            return
        self.stats['rejected'] += 1
        LOG.error('Job %(id)r for %(type)s %(rid)s rejected: %(err)s',
                  {'id': str(job_id)[:128], 'type': identity[0],
                   'rid': identity[1], 'err': error})
        if not (isinstance(job_id, str) and 0 < len(job_id) <= 512):
            job = dict(job, id=None)
        job = _storable(job, self._conf.agent.max_job_size)
        try:
            self._store.finish(_loadable(job),
                               records.rejected_record(job, error),
                               store.FAILED, received_at, error=str(error),
                               claimed=False)
        except exception.EtcdError as e:
            LOG.error('Could not record the rejection of job %(id)r: '
                      '%(err)s', {'id': str(job_id)[:128], 'err': e})


def _storable(job, max_size):
    """``job``, or what of it strict UTF-8 JSON can hold in ``max_size``.

    A rejected job is stored with its record, in one etcd request: one that
    cannot be encoded is stored sanitised, one that is too big (or cannot
    be sanitised) is stored as its top-level scalar fields only.
    """
    try:
        if len(schema.encode(job)) <= max_size:
            return job
    except exception.InvalidJob:
        try:
            job = schema.sanitised(job)
            if len(schema.encode(job)) <= max_size:
                return job
        except (RecursionError, exception.InvalidJob):
            pass
    return {schema.sanitised(key): schema.sanitised(value)
            for key, value in job.items()
            if isinstance(key, str) and len(key) <= 255
            and isinstance(value, (str, int, float, bool, type(None)))
            and len(schema.encode(schema.sanitised(value))) <= 1024}


def _loadable(received):
    """What the job record of a rejected job holds.

    Every agent loads the stored jobs to know their statuses, reading the
    id, resource, version, params and dependency of each: these get
    well-formed values (a version that is not a proper one becomes 0;
    params and dependency are emptied), and the job as received is kept
    under ``as_received``.
    """
    version = received.get('version')
    if (isinstance(version, bool) or not isinstance(version, int)
            or not 1 <= version <= schema.MAX_VERSION):
        version = 0
    action = received.get('action')
    on_failure = received.get('on_failure')
    return {
        'id': received.get('id'),
        'action': action if action in schema.ACTIONS else None,
        'handler': schema.HANDLER,
        'resource_type': received['resource_type'],
        'resource_id': received['resource_id'],
        'version': version,
        'params': [],
        'dependency': [],
        'on_failure': on_failure if isinstance(on_failure, str) else None,
        'as_received': received,
    }
