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
"""Create, update and delete the stacks of jobs, converging (SPEC 5).

- a create of an existing stack updates it, unless the stack already carries
  this job's tag (then it was created by this very job, before a restart or a
  retried request, and is adopted);
- a modify of a missing stack creates it;
- a delete of a missing stack is complete at once.

Transient errors (5xx, connection failures, timeouts) are retried with
exponential backoff, ``[heat] api_retries`` times, then raised as
:class:`esi_agent.exception.HeatUnavailable` (the runner retries the job
later, up to ``[agent] service_outage_timeout``); one line is logged when
Heat stops answering and one when it is back. Everything else becomes a
:class:`esi_agent.exception.HeatError` carrying Heat's own message.

A stack's id is remembered from the calls that give it (create, show), so
that an update or a delete of a stack the agent knows goes straight to
``/stacks/<name>/<id>``: one call instead of a lookup and the call. When
that stack is gone or busy (404, 409), the call falls back to the lookup.
"""

import collections
import hashlib
import threading

from heatclient import exc as heat_exc
from keystoneauth1 import exceptions as ks_exc
from oslo_log import log as logging
import tenacity

from esi_agent.common import outage
from esi_agent import exception

LOG = logging.getLogger(__name__)

TERMINAL_SUFFIXES = ('_COMPLETE', '_FAILED')
DELETE_COMPLETE = 'DELETE_COMPLETE'

_TRANSIENT = (heat_exc.HTTPInternalServerError,
              heat_exc.HTTPBadGateway,
              heat_exc.HTTPServiceUnavailable,
              ks_exc.ConnectFailure,
              ks_exc.ConnectTimeout,
              ks_exc.RequestTimeout,
              ks_exc.UnknownConnectionError)

# Heat stack list filters by id: how many ids one request carries.
# Of those, the errors that say Heat is down rather than a failing call.
_UNREACHABLE = tuple(e for e in _TRANSIENT
                     if e is not heat_exc.HTTPInternalServerError)

LIST_CHUNK = 100

# How many stack ids are remembered by name (the least recently used go).
KNOWN_IDS = 50000


def stack_name(resource_type, resource_id):
    return '%s_%s' % (resource_type, resource_id)


def job_tag(job_id, attempt=0):
    """The tag that marks a stack as created or updated by one job.

    :param attempt: how many times the job was put back to run again
        (``esi-agent-manage jobs retry``): a retried job must not adopt
        the stack its failed run left.
    """
    if attempt:
        job_id = '%s\x00%d' % (job_id, attempt)
    return 'esi-job-' + hashlib.sha256(
        job_id.encode('utf-8')).hexdigest()[:16]


def is_terminal(stack_status):
    return bool(stack_status) and stack_status.endswith(TERMINAL_SUFFIXES)


def heat_message(error):
    """Heat's own text of a heatclient/keystoneauth error."""
    if isinstance(error, heat_exc.HTTPException):
        body = getattr(error, 'error', None)
        if isinstance(body, dict):
            message = (body.get('error') or {}).get('message')
            if message:
                return '%s (HTTP %s)' % (message, error.code)
        return 'HTTP %s' % error.code
    return str(error) or type(error).__name__


class StackStatus(object):
    """What the agent needs to know of a stack."""

    __slots__ = ('id', 'name', 'status', 'reason', 'tags')

    def __init__(self, id, name, status, reason='', tags=()):
        self.id = id
        self.name = name
        self.status = status
        self.reason = reason or ''
        self.tags = list(tags or ())

    @classmethod
    def from_stack(cls, stack):
        return cls(stack.id, stack.stack_name, stack.stack_status,
                   getattr(stack, 'stack_status_reason', ''),
                   getattr(stack, 'tags', None))

    @property
    def identity(self):
        return '%s/%s' % (self.name, self.id)


class Stacks(object):
    """The agent's view of Heat."""

    def __init__(self, client, conf):
        self._client = client
        self._conf = conf.heat
        self.calls = 0
        # Calls that raised (Heat's refusals included): for the metrics.
        self.error_count = 0
        self.outage = outage.OutageLog('Heat', LOG)
        self._ids_lock = threading.Lock()
        self._ids = collections.OrderedDict()

    def _call(self, operation, stack, func, *args, retries=None, **kwargs):
        retries = self._conf.api_retries if retries is None else retries
        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(_TRANSIENT),
            wait=tenacity.wait_exponential(
                multiplier=0.5, max=self._conf.api_retry_max_delay),
            stop=tenacity.stop_after_attempt(retries + 1),
            before_sleep=lambda rs: self.outage.failed(
                '%s of %s: %s' % (operation, stack,
                                  heat_message(rs.outcome.exception())),
                'retrying with backoff'),
            reraise=True)
        for attempt in retrying:
            with attempt:
                self.calls += 1
                try:
                    result = func(*args, **kwargs)
                except Exception:
                    self.error_count += 1
                    raise
                self.outage.answered()
                return result

    def _fail(self, operation, stack, error):
        """The exception for a failed call: Heat's refusal, or an outage."""
        cls = exception.HeatError
        if isinstance(error, _TRANSIENT):
            cls = exception.HeatUnavailable
            self.outage.failed('%s of %s: %s' % (
                operation, stack, heat_message(error)),
                'retrying with backoff')
        return cls(operation=operation, stack=stack,
                   reason=heat_message(error))

    # Stack ids by name

    def _learn(self, status, tags=None):
        """Remember a stack's id, and the tags it was last given."""
        if not status.name or not status.id:
            return
        with self._ids_lock:
            if status.status == DELETE_COMPLETE:
                self._ids.pop(status.name, None)
                return
            self._ids[status.name] = (status.id, frozenset(
                status.tags if tags is None else tags))
            self._ids.move_to_end(status.name)
            while len(self._ids) > KNOWN_IDS:
                self._ids.popitem(last=False)

    def _forget(self, name):
        with self._ids_lock:
            self._ids.pop(name, None)

    def _known(self, name, tag=None):
        """The id of a known stack that was not given ``tag`` yet."""
        with self._ids_lock:
            known = self._ids.get(name)
        if known is None or tag in known[1]:
            return None
        return known[0]

    def find(self, name_or_id):
        """The stack's status, or None when Heat does not know it."""
        try:
            stack = self._call('show', name_or_id, self._client.stacks.get,
                               name_or_id, resolve_outputs=False)
        except heat_exc.HTTPNotFound:
            return None
        except (heat_exc.HTTPException,) + _TRANSIENT as e:
            raise self._fail('show', name_or_id, e)
        status = StackStatus.from_stack(stack)
        self._learn(status)
        return status

    def _fields(self, template, parameters, timeout_mins, tag):
        return {'template': template, 'parameters': parameters,
                'timeout_mins': timeout_mins, 'disable_rollback': True,
                'tags': '%s,%s' % (self._conf.stack_tag, tag)}

    def create(self, name, template, parameters, timeout_mins, tag):
        """Create (or converge onto) a stack; returns its StackStatus.

        :param tag: the job's tag (:func:`job_tag`); the stack also gets
            ``[heat] stack_tag``.
        """
        fields = self._fields(template, parameters, timeout_mins, tag)
        try:
            body = self._call('create', name, self._client.stacks.create,
                              stack_name=name, **fields)
        except heat_exc.HTTPConflict:
            existing = self.find(name)
            if existing is None:
                raise exception.HeatError(
                    operation='create', stack=name,
                    reason='Heat reports the stack exists but cannot '
                           'show it')
            if tag in existing.tags:
                LOG.info('Stack %s already carries this job\'s tag; '
                         'adopting it', name)
                return existing
            LOG.info('Stack %s exists; updating it instead', name)
            return self._update(existing, fields)
        except (heat_exc.HTTPException,) + _TRANSIENT as e:
            raise self._fail('create', name, e)
        status = StackStatus(body['stack']['id'], name, 'CREATE_IN_PROGRESS')
        self._learn(status, fields['tags'].split(','))
        return status

    def update(self, name, template, parameters, timeout_mins, tag):
        """Update (or create) a stack; returns its StackStatus."""
        # A stack already given this job's tag (a retry) is looked up, to
        # be adopted rather than updated twice.
        known = self._known(name, tag)
        if known is not None:
            status = StackStatus(known, name, 'UPDATE_IN_PROGRESS')
            fields = self._fields(template, parameters, timeout_mins, tag)
            try:
                self._call('update', name, self._client.stacks.update,
                           status.identity, **fields)
                self._learn(status, fields['tags'].split(','))
                return status
            except (heat_exc.HTTPNotFound, heat_exc.HTTPConflict):
                # Gone (perhaps replaced) or busy: look it up.
                self._forget(name)
            except (heat_exc.HTTPException,) + _TRANSIENT as e:
                raise self._fail('update', name, e)
        existing = self.find(name)
        if existing is None:
            LOG.info('Stack %s does not exist; creating it instead', name)
            return self.create(name, template, parameters, timeout_mins,
                               tag)
        if tag in existing.tags:
            LOG.info('Stack %s already carries this job\'s tag; adopting '
                     'it', name)
            return existing
        return self._update(existing, self._fields(
            template, parameters, timeout_mins, tag))

    def _update(self, existing, fields):
        try:
            self._call('update', existing.name, self._client.stacks.update,
                       existing.identity, **fields)
        except (heat_exc.HTTPException,) + _TRANSIENT as e:
            raise self._fail('update', existing.name, e)
        status = StackStatus(existing.id, existing.name, 'UPDATE_IN_PROGRESS')
        self._learn(status, fields['tags'].split(','))
        return status

    def delete(self, name):
        """Delete a stack; returns its StackStatus, None when missing."""
        known = self._known(name)
        if known is not None:
            status = StackStatus(known, name, 'DELETE_IN_PROGRESS')
            self._forget(name)
            try:
                self._call('delete', name, self._client.stacks.delete,
                           status.identity)
                return status
            except heat_exc.HTTPNotFound:
                # Gone, perhaps replaced by a stack of the same name.
                pass
            except (heat_exc.HTTPException,) + _TRANSIENT as e:
                raise self._fail('delete', name, e)
        existing = self.find(name)
        if existing is None:
            return None
        self._forget(name)
        try:
            self._call('delete', name, self._client.stacks.delete,
                       existing.identity)
        except heat_exc.HTTPNotFound:
            return None
        except (heat_exc.HTTPException,) + _TRANSIENT as e:
            raise self._fail('delete', name, e)
        return StackStatus(existing.id, existing.name, 'DELETE_IN_PROGRESS')

    def statuses(self, stacks):
        """The current status of many stacks, in few calls.

        One list call per LIST_CHUNK stacks, filtered by id (Heat cannot
        combine the ``tags`` query with other filters: it applies them to
        the tag table), deleted stacks included. A stack missing from the
        answer is looked up by id; so is every stack when Heat refuses the
        list call, or when ``[heat] batch_status_poll`` is off. Errors are
        not retried here: the next cycle is the retry.

        :param stacks: StackStatus objects (id and name set).
        :returns: dict of stack id to StackStatus.
        :raises: HeatUnavailable when Heat does not answer, HeatError when
            it cannot be asked at all.
        """
        wanted = {s.id: s for s in stacks}
        found = {}
        ids = list(wanted)
        try:
            for start in range(0, len(ids) if self._conf.batch_status_poll
                               else 0, LIST_CHUNK):
                chunk = ids[start:start + LIST_CHUNK]
                listed = self._call(
                    'list', '%d stacks' % len(chunk),
                    lambda c=chunk: list(self._client.stacks.list(
                        filters={'id': c}, show_deleted=True)), retries=0)
                for stack in listed:
                    found[stack.id] = StackStatus.from_stack(stack)
        except _UNREACHABLE as e:
            # Not a refusal: Heat is down; asking for each stack would
            # only multiply the failing calls.
            raise self._fail('list', '%d stacks' % len(ids), e)
        except (heat_exc.HTTPException,) + _TRANSIENT as e:
            LOG.warning('Heat refused to list %(n)d in-flight stacks '
                        '(%(err)s); asking for each of them',
                        {'n': len(ids), 'err': heat_message(e)})
        for stack_id in set(wanted) - set(found):
            status = self.find(wanted[stack_id].identity)
            found[stack_id] = status or StackStatus(
                stack_id, wanted[stack_id].name, DELETE_COMPLETE)
        return found

    def outputs(self, stack):
        """The outputs of a stack, as Heat gives them.

        :returns: ``[{output_key, output_value, description}]``
        """
        return self.show(stack)[1]

    def show(self, stack):
        """A stack's status and outputs, in one call.

        The status tells whether the outputs are those of the terminal
        status the caller expects (a stale hint would find the stack in
        progress again).

        :returns: ``(StackStatus, [{output_key, output_value,
            description}])``
        """
        try:
            body = self._call('show', stack.name, self._client.stacks.get,
                              stack.identity, resolve_outputs=True)
        except (heat_exc.HTTPException,) + _TRANSIENT as e:
            raise self._fail('show', stack.name, e)
        return StackStatus.from_stack(body), [
            {'output_key': o.get('output_key'),
             'output_value': o.get('output_value'),
             'description': o.get('description')}
            for o in (getattr(body, 'outputs', None) or [])]
