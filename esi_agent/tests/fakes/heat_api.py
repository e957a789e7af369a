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
"""A stand-in for the Heat orchestration API, for tests and benchmarks.

:class:`FakeHeat` serves the part of the Heat v1 REST API that the
``stacks`` manager of python-heatclient uses (create, lookup, show, update,
delete, list) from a real HTTP server on loopback, so the code under test
reaches it through its unmodified heatclient and keystoneauth1 code path::

    fake = self.useFixture(heat_api.FakeHeat(stack_time=0.1))
    sess = session.Session(auth=noauth.NoAuth(endpoint=fake.endpoint))
    hc = heat_client.Client('1', session=sess,
                            endpoint_override=fake.endpoint)

No resource is ever created. Each create, update or delete puts the stack
``IN_PROGRESS`` and asks the outcome policy (a callable taking an
:class:`Operation` and returning an :class:`Outcome`) how and when it ends;
one scheduler thread then makes the stack terminal at that time.

What the client can observe follows Heat, including the wording of status
reasons and the body of errors (so that heatclient raises ``HTTPConflict``,
``HTTPNotFound``... carrying Heat's message). Known differences:

* All stacks are visible whatever the project in the URL.
* Updating a stack that has an action in progress is refused (409
  ``ActionInProgress``), as Heat's legacy engine does; the convergence
  engine would accept it.
* Only the ``parameters``, ``outputs`` and ``description`` sections of a
  template are looked at; ``environment`` and ``files`` are ignored.
* While an operation is in progress, ``outputs`` is empty. A failed
  create or update of a stack with rollback enabled goes straight to
  ``ROLLBACK_COMPLETE``, with no outputs.
* A failure or time out reads as the legacy engine words it.
* A page of stacks holds at most ``max_page_size`` stacks when that is set
  (Heat has no such cap); it makes heatclient's pagination observable.

Run as a program, it serves until SIGTERM or SIGINT and prints its endpoint
on stdout once listening::

    python -m esi_agent.tests.fakes.heat_api --port 8004 --stack-time 2

In that mode the ``/_fake/`` admin resources (see :class:`FakeHeat`) give
other processes the counters and the fault injection knobs.

With ``notify_url`` (``--notify URL``), it also sends the notifications
Heat sends with ``[oslo_messaging_notifications] driver = messagingv2``:
``orchestration.stack.<action>.start`` when an operation begins, ``.end``
(INFO) or ``.error`` (ERROR priority) when it ends, from publisher
``orchestration.<host>`` on exchange ``heat``, topic ``notifications``,
with the payload of ``heat.engine.api.format_notification_body`` (as Heat
27 fills it in noauth mode).
"""

import argparse
import collections
import dataclasses
import datetime
import functools
import heapq
import http
import http.server
import itertools
import json
import logging
import math
import queue
import re
import signal
import socket
import sys
import threading
import time
import urllib.parse
import uuid

import fixtures
import yaml

LOG = logging.getLogger(__name__)

#: The project in the URL of :attr:`FakeHeat.endpoint`.
PROJECT_ID = 'admin'

ACTIONS = (CREATE, UPDATE, DELETE, ROLLBACK) = (
    'CREATE', 'UPDATE', 'DELETE', 'ROLLBACK')
STATUSES = (IN_PROGRESS, COMPLETE, FAILED) = (
    'IN_PROGRESS', 'COMPLETE', 'FAILED')

#: The request kinds counted by :attr:`FakeHeat.calls`.
KINDS = ('create', 'update', 'delete', 'show', 'lookup', 'list', 'other')

#: Heat's ``stack_action_timeout`` default, for stacks without timeout_mins.
DEFAULT_TIMEOUT_MINS = 60

#: The user Heat names in notifications in noauth mode.
NOAUTH_USER = 'admin'

# Status reasons, as heat.engine.stack words them.
STARTED_REASON = 'Stack %s started'
COMPLETED_REASON = 'Stack %s completed successfully'
FAILED_REASON = 'Resource %s failed: Error: failure injected by FakeHeat'
TIMED_OUT_REASONS = {
    CREATE: 'Create timed out',
    UPDATE: 'Timed out',
    DELETE: 'Delete timed out',
}

_NO_OUTPUT_DESCRIPTION = 'No description given'
_NO_TEMPLATE_DESCRIPTION = 'No description'
_HIDDEN_VALUE = '******'
_MAX_TAG_LENGTH = 80
_STACK_NAME_RE = re.compile(r'[a-zA-Z][a-zA-Z0-9_.-]{0,254}$')
_STACKS_PATH_RE = re.compile(
    r'^/v1/(?P<project>[^/]+)/stacks'
    r'(?:/(?P<name>[^/]+)(?:/(?P<id>[^/]+))?)?/?$')
_ADMIN_PREFIX = '/_fake/'
_YAML_LOADER = getattr(yaml, 'CSafeLoader', yaml.SafeLoader)

# webob's explanations, which Heat's error bodies carry.
_EXPLANATIONS = {
    400: ('The server could not comply with the request since it is '
          'either malformed or otherwise incorrect.'),
    404: 'The resource could not be found.',
    409: 'There was a conflict when trying to complete your request.',
    500: ('The server has either erred or is incapable of performing the '
          'requested operation.'),
    503: ('The server is currently unavailable. Please try again at a '
          'later time.'),
}


@dataclasses.dataclass(frozen=True)
class Operation:
    """A create, update or delete that FakeHeat accepted.

    The fields are the stack's settings for this operation: those sent by
    the client for a create or an update, the stack's current ones for a
    delete.

    :param action: ``'CREATE'``, ``'UPDATE'`` or ``'DELETE'``.
    :param stack_name: the name of the stack.
    :param stack_id: the id of the stack.
    :param template: the template as sent, normally YAML text.
    :param parameters: the parameters dict as sent.
    :param timeout_mins: the timeout in minutes, ``None`` if not set.
    :param disable_rollback: whether rollback is disabled.
    :param tags: the list of tags.
    """

    action: str
    stack_name: str
    stack_id: str
    template: object
    parameters: dict
    timeout_mins: int | None
    disable_rollback: bool
    tags: list


@dataclasses.dataclass(frozen=True)
class Outcome:
    """How an :class:`Operation` ends, as decided by an outcome policy.

    A field left to ``None`` takes the value of a successful Heat run.

    :param status: ``'COMPLETE'`` or ``'FAILED'``.
    :param reason: the ``stack_status_reason`` to end with; Heat's wording
        by default (``'Stack CREATE completed successfully'``...).
    :param outputs: the list of ``{'output_key', 'output_value',
        'description'}`` dicts the stack shows once terminal; by default
        :func:`template_outputs` after a successful create or update, none
        otherwise.
    :param delay: seconds until the operation ends, instead of the
        ``stack_time`` of the :class:`FakeHeat`; ``float('inf')`` makes it
        last until the stack times out.
    """

    status: str = COMPLETE
    reason: str | None = None
    outputs: list | None = None
    delay: float | None = None

    def __post_init__(self):
        if self.status not in (COMPLETE, FAILED):
            raise ValueError('Outcome status must be %r or %r, not %r'
                             % (COMPLETE, FAILED, self.status))
        if self.delay is not None and not self.delay >= 0:
            raise ValueError('Outcome delay must be >= 0, not %r'
                             % self.delay)


def default_outcome(operation):
    """The default outcome policy: every operation succeeds.

    It ends after the ``stack_time`` of the :class:`FakeHeat`, with Heat's
    status reason and, for a create or an update, the outputs given by
    :func:`template_outputs`.
    """
    return Outcome()


def parse_template(template):
    """Return the template document of ``template`` (YAML text or dict).

    :raises ValueError: if it is not a mapping.
    """
    if isinstance(template, str):
        try:
            template = yaml.load(template, Loader=_YAML_LOADER)
        except yaml.YAMLError as e:
            raise ValueError(str(e))
    if not isinstance(template, dict):
        raise ValueError('The template is not a JSON object or YAML mapping.')
    return template


def template_outputs(template, stack_name):
    """Return the outputs a stack of ``template`` shows once complete.

    There is one output for each entry of the template's ``outputs``
    section, in order, with its ``description`` (Heat's "No description
    given" if it has none) and the value ``'<stack_name>/<output key>'``.

    :param template: YAML text or parsed template.
    :param stack_name: the name of the stack.
    """
    outputs = []
    for key, spec in (parse_template(template).get('outputs') or {}).items():
        if not isinstance(spec, dict):
            spec = {}
        outputs.append({
            'output_key': key,
            'output_value': '%s/%s' % (stack_name, key),
            'description': spec.get('description', _NO_OUTPUT_DESCRIPTION),
        })
    return outputs


class _ApiError(Exception):
    """An error, answered the way Heat's fault middleware formats it."""

    def __init__(self, code, error_type, message):
        super().__init__(message)
        self.code = code
        self.error_type = error_type
        self.message = message

    def body(self):
        status = http.HTTPStatus(self.code)
        return {
            'explanation': _EXPLANATIONS.get(self.code, status.description),
            'code': self.code,
            'error': {'message': self.message,
                      'traceback': None,
                      'type': self.error_type},
            'title': status.phrase,
        }


def _bad_request(message, error_type='HTTPBadRequest'):
    return _ApiError(400, error_type, message)


def _stack_not_found(name):
    return _ApiError(404, 'EntityNotFound',
                     'The Stack (%s) could not be found.' % name)


# The stack list filters the stand-in understands (Heat has a few more).
_FILTER_KEYS = ('id', 'name', 'status', 'action')


def _http_error(code, message):
    """An error raised by the web layer rather than the Heat engine."""
    error_type = 'HTTP' + http.HTTPStatus(code).phrase.replace(' ', '')
    return _ApiError(code, error_type, message)


def _extract_int(name, value):
    if value is None:
        return None
    try:
        result = int(str(value))
    except ValueError:
        raise _bad_request("Only integer is acceptable by '%s'." % name)
    if result < 0:
        raise _bad_request("Value '%s' is invalid for '%s' which only "
                           "accepts non-negative integer." % (value, name))
    return result


def _extract_bool(name, value):
    if str(value).lower() not in ('true', 'false'):
        raise _bad_request('Unrecognized value "%s" for "%s", acceptable '
                           'values are: true, false.' % (value, name))
    return str(value).lower() == 'true'


def _extract_tags(value):
    if value is None:
        return None
    tags = value.split(',') if isinstance(value, str) else list(value)
    for tag in tags:
        if not isinstance(tag, str):
            raise _bad_request('Invalid tag, "%s" is not a string' % tag)
        if len(tag) > _MAX_TAG_LENGTH:
            raise _bad_request('Invalid tag, "%s" is longer than %d '
                               'characters' % (tag, _MAX_TAG_LENGTH))
    return [tag for tag in tags if tag]


def _isotime(when):
    return when.strftime('%Y-%m-%dT%H:%M:%SZ') if when else None


def _utcnow():
    return datetime.datetime.now(datetime.timezone.utc)


def _is_uuid(value):
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _declared_parameters(template_doc):
    """Return the parameter schemas of a template, keyed by name."""
    return {key: schema if isinstance(schema, dict) else {}
            for key, schema in
            (template_doc.get('parameters') or {}).items()}


def _check_parameters(template_doc, parameters):
    """Refuse parameters that Heat would refuse for this template."""
    declared = _declared_parameters(template_doc)
    for key in parameters:
        if key not in declared:
            raise _bad_request('The Parameter (%s) was not defined in '
                               'template.' % key, 'UnknownUserParameter')
    for key, schema in declared.items():
        if key not in parameters and 'default' not in schema:
            raise _bad_request('The Parameter (%s) was not provided.' % key,
                               'UserParameterMissing')


def _parameter_text(schema, value):
    """Render a parameter value as text, the way Heat shows it."""
    if schema.get('hidden'):
        return _HIDDEN_VALUE
    kind = schema.get('type')
    if kind == 'json':
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                return value
        return json.dumps(value)
    if kind == 'comma_delimited_list' and isinstance(value, list):
        return ','.join(str(item) for item in value)
    if kind == 'boolean' and isinstance(value, str):
        value = value.strip().lower() in ('1', 't', 'true', 'on', 'y', 'yes')
    return str(value)


# The state an operation leaves its stack in, and after how many seconds.
_Ending = collections.namedtuple(
    '_Ending', ('action', 'status', 'reason', 'outputs', 'delay'))


def _resolve(operation, outcome, template_doc, stack_time):
    """Return the _Ending of ``operation`` given its ``outcome``."""
    action = operation.action
    delay = stack_time if outcome.delay is None else outcome.delay
    timeout = 60 * (operation.timeout_mins or DEFAULT_TIMEOUT_MINS)
    if delay > timeout:
        status, reason, outputs = FAILED, TIMED_OUT_REASONS[action], []
        delay = timeout
    else:
        status = outcome.status
        reason = outcome.reason
        outputs = outcome.outputs
        if reason is None:
            reason = (COMPLETED_REASON if status == COMPLETE
                      else FAILED_REASON) % action
        if outputs is None:
            outputs = []
            if status == COMPLETE and action != DELETE:
                outputs = template_outputs(template_doc, operation.stack_name)
    if (status == FAILED and action != DELETE and
            not operation.disable_rollback):
        return _Ending(ROLLBACK, COMPLETE, COMPLETED_REASON % ROLLBACK, [],
                       delay)
    return _Ending(action, status, reason, outputs, delay)


@dataclasses.dataclass(eq=False)
class _Stack:
    """The engine's record of a stack; guarded by the engine lock."""

    id: str
    name: str
    project_id: str
    created_seq: int
    creation_time: datetime.datetime
    template: object = None
    template_doc: dict = dataclasses.field(default_factory=dict)
    parameters: dict = dataclasses.field(default_factory=dict)
    timeout_mins: int | None = None
    disable_rollback: bool = True
    tags: list = dataclasses.field(default_factory=list)
    action: str = CREATE
    status: str = IN_PROGRESS
    reason: str = ''
    outputs: list = dataclasses.field(default_factory=list)
    updated_seq: int | None = None
    updated_time: datetime.datetime | None = None
    deletion_time: datetime.datetime | None = None
    # Bumped by every new operation, so that a superseded one never ends.
    generation: int = 0
    operation: Operation | None = None
    outcome: Outcome | None = None
    # The _Ending of the operation in progress.
    pending: _Ending | None = None
    # The timeline record of the last operation (see FakeHeat.timeline).
    record: dict | None = None

    @property
    def deleted(self):
        return self.action == DELETE and self.status == COMPLETE

    @property
    def stack_status(self):
        return '%s_%s' % (self.action, self.status)

    def link(self, base_url):
        href = '%s/%s/stacks/%s/%s' % (
            base_url, urllib.parse.quote(self.project_id, ''),
            urllib.parse.quote(self.name, ''), self.id)
        return {'href': href, 'rel': 'self'}

    def summary(self, base_url):
        """The stack as it appears in a stack list."""
        return {
            'id': self.id,
            'links': [self.link(base_url)],
            'stack_name': self.name,
            'description': '',
            'stack_status': self.stack_status,
            'stack_status_reason': self.reason,
            'creation_time': _isotime(self.creation_time),
            'updated_time': _isotime(self.updated_time),
            'deletion_time': _isotime(self.deletion_time),
            'stack_owner': None,
            'parent': None,
            'stack_user_project_id': None,
            'tags': list(self.tags) or None,
        }

    def details(self, base_url, resolve_outputs=True):
        """The stack as a stack show returns it."""
        description = self.template_doc.get(
            'description', _NO_TEMPLATE_DESCRIPTION)
        details = self.summary(base_url)
        details.update({
            'description': description,
            'template_description': description,
            'parameters': self.shown_parameters(),
            'timeout_mins': self.timeout_mins,
            'disable_rollback': self.disable_rollback,
            'notification_topics': [],
            'capabilities': [],
            'tags': list(self.tags),
        })
        if resolve_outputs and not self.deleted:
            details['outputs'] = [dict(output) for output in self.outputs]
        return details

    def notification(self):
        """Heat's notification of the stack's current status.

        :returns: ``(priority, event_type, payload)``, as
            ``heat.engine.notification.stack.send`` builds them.
        """
        if self.status == IN_PROGRESS:
            suffix, priority = 'start', 'info'
        elif self.status == COMPLETE:
            suffix, priority = 'end', 'info'
        else:
            suffix, priority = 'error', 'error'
        payload = {
            'tenant_id': self.project_id,
            'user_id': NOAUTH_USER,
            'user_identity': NOAUTH_USER,
            'username': NOAUTH_USER,
            'stack_identity': self.id,
            'stack_name': self.name,
            'state': self.stack_status,
            'state_reason': self.reason,
            'create_at': _isotime(self.creation_time),
            'tags': list(self.tags),
            'updated_at': _isotime(self.updated_time),
            'description': self.template_doc.get(
                'description', _NO_TEMPLATE_DESCRIPTION),
        }
        event_type = 'orchestration.stack.%s.%s' % (self.action.lower(),
                                                    suffix)
        return priority, event_type, payload

    def shown_parameters(self):
        """Parameter values as text, with defaults and pseudo parameters."""
        shown = {'OS::stack_id': self.id,
                 'OS::stack_name': self.name,
                 'OS::project_id': self.project_id}
        for key, schema in _declared_parameters(self.template_doc).items():
            if key in self.parameters:
                shown[key] = _parameter_text(schema, self.parameters[key])
            elif 'default' in schema:
                shown[key] = _parameter_text(schema, schema['default'])
        return shown


# The sort keys Heat accepts, by API name. A stack never updated sorts
# first, like NULL in an ascending SQL sort.
_SORT_KEYS = {
    'stack_name': lambda stack: stack.name,
    'stack_status': lambda stack: stack.status,
    'creation_time': lambda stack: stack.created_seq,
    'updated_time': lambda stack: stack.updated_seq or 0,
}


class _Scheduler:
    """Calls functions at given monotonic times from a single thread.

    Pending calls sit in a heap, so any number of them costs one thread.
    Those still pending when the scheduler stops run once it is started
    again.
    """

    def __init__(self):
        self._cond = threading.Condition()
        self._heap = []
        self._seq = itertools.count()
        self._thread = None
        self._stopping = False

    def start(self):
        with self._cond:
            if self._thread is not None:
                return
            self._stopping = False
            self._thread = threading.Thread(
                target=self._run, name='fake-heat-scheduler', daemon=True)
            self._thread.start()

    def stop(self):
        with self._cond:
            thread, self._thread = self._thread, None
            self._stopping = True
            self._cond.notify_all()
        if thread is not None and thread is not threading.current_thread():
            thread.join()

    def call_at(self, when, func):
        """Call ``func()`` once ``time.monotonic()`` reaches ``when``."""
        with self._cond:
            heapq.heappush(self._heap, (when, next(self._seq), func))
            self._cond.notify()

    def _due(self):
        """Wait for and pop the calls that are due; [] when stopping."""
        with self._cond:
            while not self._stopping:
                now = time.monotonic()
                if self._heap and self._heap[0][0] <= now:
                    due = []
                    while self._heap and self._heap[0][0] <= now:
                        due.append(heapq.heappop(self._heap)[2])
                    return due
                timeout = self._heap[0][0] - now if self._heap else None
                self._cond.wait(timeout)
            return []

    def _run(self):
        while True:
            due = self._due()
            if not due:
                return
            for func in due:
                try:
                    func()
                except Exception:
                    LOG.exception('FakeHeat scheduled call %r failed', func)


class _Engine:
    """The stacks and what the API does to them, without any HTTP."""

    def __init__(self, scheduler, stack_time, outcome, time_scale,
                 max_page_size):
        self._scheduler = scheduler
        self._stack_time = stack_time
        self.policy = outcome or default_outcome
        self._time_scale = time_scale
        self._max_page_size = max_page_size
        # Reentrant: the outcome policy runs with it held and may read the
        # recorded operations.
        self._lock = threading.RLock()
        self._stacks = {}
        self._live = {}
        self._seq = itertools.count(1)
        self._operations = []
        self._creates_by_name = collections.Counter()
        self._timeline = []
        #: Called with ``(priority, event_type, payload)`` at every status
        #: change, with the engine lock held: it must not block.
        self.on_status = None

    @property
    def operations(self):
        with self._lock:
            return list(self._operations)

    @property
    def creates_by_name(self):
        with self._lock:
            return collections.Counter(self._creates_by_name)

    def timeline(self):
        with self._lock:
            return [dict(record) for record in self._timeline]

    def stats(self):
        with self._lock:
            return {
                'creates_by_name': dict(self._creates_by_name),
                'operations': dict(collections.Counter(
                    op.action for op in self._operations)),
                'stacks': dict(collections.Counter(
                    stack.stack_status for stack in self._stacks.values())),
            }

    # API

    def create(self, project_id, body, base_url):
        name = body.get('stack_name')
        if not name:
            raise _bad_request('No stack name specified')
        with self._lock:
            if isinstance(name, str):
                self._creates_by_name[name] += 1
        template, template_doc = self._template(body, required=True)
        parameters = self._parameters(body)
        timeout_mins = self._timeout(body)
        disable_rollback = self._disable_rollback(body, True)
        tags = _extract_tags(body.get('tags')) or []
        if not isinstance(name, str) or not _STACK_NAME_RE.match(name):
            raise _bad_request(
                'Invalid stack name %s must contain only alphanumeric or '
                '"_-." characters, must start with alpha and must be 255 '
                'characters or less.' % name, 'StackValidationFailed')
        with self._lock:
            if name in self._live:
                raise _ApiError(409, 'StackExists',
                                'The Stack (%s) already exists.' % name)
            _check_parameters(template_doc, parameters)
            stack = _Stack(id=str(uuid.uuid4()), name=name,
                           project_id=project_id,
                           created_seq=next(self._seq),
                           creation_time=_utcnow())
            self._begin(stack, CREATE, template=template,
                        template_doc=template_doc, parameters=parameters,
                        timeout_mins=timeout_mins,
                        disable_rollback=disable_rollback, tags=tags)
            self._stacks[stack.id] = stack
            self._live[name] = stack
            return {'id': stack.id, 'links': [stack.link(base_url)]}

    def lookup(self, name_or_id):
        """Return ``(project_id, name, id)`` of a stack, as Heat does.

        An id finds deleted stacks too, a name only live ones.
        """
        with self._lock:
            stack = None
            if _is_uuid(name_or_id):
                stack = self._stacks.get(name_or_id)
            if stack is None:
                stack = self._live.get(name_or_id)
            if stack is None:
                raise _stack_not_found(name_or_id)
            return stack.project_id, stack.name, stack.id

    def show(self, name, stack_id, base_url, resolve_outputs=True):
        with self._lock:
            stack = self._get(name, stack_id, show_deleted=True)
            return stack.details(base_url, resolve_outputs)

    def update(self, name, stack_id, body, patch=False):
        """Update a stack; ``patch`` selects PATCH (existing) semantics."""
        template, template_doc = self._template(body, required=not patch)
        parameters = self._parameters(body)
        timeout_mins = self._timeout(body)
        tags = _extract_tags(body.get('tags'))
        with self._lock:
            stack = self._get(name, stack_id)
            if stack.action == DELETE:
                raise _bad_request('Updating a stack when it is deleting '
                                   'is not supported.', 'NotSupported')
            if stack.status == IN_PROGRESS:
                raise _ApiError(409, 'ActionInProgress',
                                'Stack %s already has an action (%s) in '
                                'progress.' % (stack.name, stack.action))
            if patch:
                if template is None:
                    template = stack.template
                    template_doc = stack.template_doc
                cleared = set(body.get('clear_parameters') or ())
                merged = {key: value
                          for key, value in stack.parameters.items()
                          if key not in cleared}
                merged.update(parameters)
                parameters = merged
                if tags is None:
                    tags = stack.tags
            disable_rollback = self._disable_rollback(
                body, stack.disable_rollback)
            _check_parameters(template_doc, parameters)
            self._begin(stack, UPDATE, template=template,
                        template_doc=template_doc, parameters=parameters,
                        timeout_mins=timeout_mins or stack.timeout_mins,
                        disable_rollback=disable_rollback,
                        # A PUT without tags clears them, as in Heat.
                        tags=tags or [],
                        updated_seq=next(self._seq),
                        updated_time=_utcnow())

    def delete(self, name, stack_id):
        with self._lock:
            self._begin(self._get(name, stack_id), DELETE)

    def list(self, query, base_url, path_url):
        """List stacks; ``query`` is a ``parse_qs()`` dict of lists."""
        def single(key):
            values = query.get(key)
            return values[-1] if values else None

        limit = _extract_int('limit', single('limit'))
        show_deleted = _extract_bool('show_deleted',
                                     single('show_deleted') or 'false')
        sort_dir = single('sort_dir')
        if sort_dir not in (None, 'asc', 'desc'):
            raise _bad_request("Unknown sort direction, must be 'desc' or "
                               "'asc'", 'ValueError')
        sort_keys = [_SORT_KEYS[key] for key in query.get('sort_keys', ())
                     if key in _SORT_KEYS]
        if not sort_keys:
            sort_keys = [_SORT_KEYS['creation_time']]
            sort_dir = sort_dir or 'desc'

        def sort_key(stack):
            return tuple(key(stack) for key in sort_keys) + (stack.id,)

        if (query.get('tags') or query.get('tags_any')) and any(
                query.get(key) for key in _FILTER_KEYS):
            # Heat 27 applies the filters to the tag table it joined for
            # the tags query: a DBError, answered as a 500.
            raise _http_error(500, 'Remote error: DBError invalid input '
                              'for the stack_tag table')
        matches = self._filter(query, show_deleted)
        with self._lock:
            stacks = [s for s in self._stacks.values() if matches(s)]
            stacks.sort(key=sort_key, reverse=sort_dir == 'desc')
            # As in Heat, an unknown marker is ignored.
            marker = self._stacks.get(single('marker'))
            if marker is not None:
                after = sort_key(marker)
                if sort_dir == 'desc':
                    stacks = [s for s in stacks if sort_key(s) < after]
                else:
                    stacks = [s for s in stacks if sort_key(s) > after]
            page_limits = [n for n in (limit, self._max_page_size)
                           if n is not None]
            page_limit = min(page_limits) if page_limits else None
            if page_limit is not None:
                stacks = stacks[:page_limit]
            result = {'stacks': [s.summary(base_url) for s in stacks]}
        if page_limit and len(stacks) == page_limit:
            params = [(key, value) for key, values in query.items()
                      if key != 'marker' for value in values]
            params.append(('marker', stacks[-1].id))
            result['links'] = [{
                'rel': 'next',
                'href': '%s?%s' % (path_url, urllib.parse.urlencode(params)),
            }]
        return result

    def finish(self, name_or_id, outcome=None):
        with self._lock:
            stack = self._live.get(name_or_id) or self._stacks.get(name_or_id)
            if stack is None:
                raise KeyError('No stack %s' % name_or_id)
            if stack.pending is None:
                raise ValueError('Stack %s (%s) has no operation in progress'
                                 % (stack.name, stack.stack_status))
            outcome = dataclasses.replace(outcome or stack.outcome, delay=0)
            stack.pending = _resolve(stack.operation, outcome,
                                     stack.template_doc, 0)
            stack.generation += 1
            self._end(stack)

    # Internals

    @staticmethod
    def _template(body, required):
        template = body.get('template')
        if template is None:
            if required:
                raise _bad_request('No template specified')
            return None, None
        try:
            return template, parse_template(template)
        except ValueError as e:
            raise _bad_request('Failed to parse template: %s' % e)

    @staticmethod
    def _parameters(body):
        parameters = body.get('parameters') or {}
        if not isinstance(parameters, dict):
            raise _bad_request('The parameters must be a JSON object.')
        return dict(parameters)

    @staticmethod
    def _disable_rollback(body, default):
        value = body.get('disable_rollback')
        if value is None:
            return default
        return _extract_bool('disable_rollback', value)

    @staticmethod
    def _timeout(body):
        timeout_mins = _extract_int('timeout_mins', body.get('timeout_mins'))
        return timeout_mins or None

    def _get(self, name, stack_id, show_deleted=False):
        stack = self._stacks.get(stack_id)
        if (stack is None or stack.name != name or
                (stack.deleted and not show_deleted)):
            raise _stack_not_found(name)
        return stack

    @staticmethod
    def _filter(query, show_deleted):
        """Return a predicate telling which stacks a list returns."""
        # Each filter value may be repeated; a stack must match one of them.
        wanted = {key: set(query[key])
                  for key in _FILTER_KEYS if query.get(key)}
        # Tag filters: (wanted tags, whether all or any of them, negated).
        tag_filters = [(set(_extract_tags(query[key][-1])), test, negate)
                       for key, test, negate in (
                           ('tags', all, False),
                           ('tags_any', any, False),
                           ('not_tags', all, True),
                           ('not_tags_any', any, True))
                       if query.get(key)]

        def matches(stack):
            if stack.deleted and not show_deleted:
                return False
            if any(getattr(stack, key) not in values
                   for key, values in wanted.items()):
                return False
            for tags, test, negate in tag_filters:
                if test(tag in stack.tags for tag in tags) == negate:
                    return False
            return True

        return matches

    def _begin(self, stack, action, **changes):
        """Start ``action`` on ``stack`` with the settings in ``changes``.

        The policy is asked first, so that a policy error changes nothing.
        """
        settings = dataclasses.replace(stack, **changes)
        operation = Operation(
            action=action, stack_name=stack.name, stack_id=stack.id,
            template=settings.template,
            parameters=dict(settings.parameters),
            timeout_mins=settings.timeout_mins,
            disable_rollback=settings.disable_rollback,
            tags=list(settings.tags))
        outcome = self.policy(operation)
        if not isinstance(outcome, Outcome):
            raise TypeError('The outcome policy returned %r, not an '
                            'Outcome' % (outcome,))
        pending = _resolve(operation, outcome, settings.template_doc,
                           self._stack_time)
        for key, value in changes.items():
            setattr(stack, key, value)
        stack.action = action
        stack.status = IN_PROGRESS
        stack.reason = STARTED_REASON % action
        stack.outputs = []
        stack.operation = operation
        stack.outcome = outcome
        stack.pending = pending
        stack.generation += 1
        self._operations.append(operation)
        stack.record = {'action': action, 'stack_name': stack.name,
                        'stack_id': stack.id, 'tags': list(stack.tags),
                        'started_at': time.time(), 'ended_at': None,
                        'stack_status': None}
        self._timeline.append(stack.record)
        self._notify(stack)
        if math.isfinite(pending.delay):
            generation = stack.generation
            self._scheduler.call_at(
                time.monotonic() + pending.delay * self._time_scale,
                functools.partial(self._timer, stack, generation))

    def _timer(self, stack, generation):
        with self._lock:
            if stack.generation == generation:
                self._end(stack)

    def _end(self, stack):
        ending, stack.pending = stack.pending, None
        stack.action = ending.action
        stack.status = ending.status
        stack.reason = ending.reason
        stack.outputs = [dict(output) for output in ending.outputs]
        if stack.deleted:
            stack.deletion_time = _utcnow()
            if self._live.get(stack.name) is stack:
                del self._live[stack.name]
        if stack.record is not None:
            stack.record['ended_at'] = time.time()
            stack.record['stack_status'] = stack.stack_status
        self._notify(stack)

    def _notify(self, stack):
        if self.on_status is not None:
            self.on_status(*stack.notification())


class _Server(http.server.ThreadingHTTPServer):
    """The HTTP server; it tracks connections so that stop() can cut them."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address, fake):
        self.fake = fake
        self._connections = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _RequestHandler)

    def process_request(self, request, client_address):
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self):
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request, client_address):
        LOG.debug('FakeHeat: error serving %s', client_address,
                  exc_info=True)


class _RequestHandler(http.server.BaseHTTPRequestHandler):
    """Parses HTTP requests for FakeHeat and writes its answers."""

    protocol_version = 'HTTP/1.1'
    server_version = 'FakeHeat/1.0'
    # Headers and body go out in two sends; without this, Nagle's algorithm
    # and delayed ACKs add ~40 ms to every answer.
    disable_nagle_algorithm = True

    def _dispatch(self):
        url = urllib.parse.urlsplit(self.path)
        try:
            body = self._read_body()
        except _ApiError as e:
            self._reply(e.code, e.body())
            return
        fake = self.server.fake
        if url.path.startswith(_ADMIN_PREFIX):
            handler = fake._admin
        else:
            handler = fake._serve
        try:
            reply = handler(self.command, url, body, self._root_url())
        except _ApiError as e:
            reply = e.code, e.body(), None
        except Exception as e:
            LOG.exception('FakeHeat failed to serve %s %s',
                          self.command, self.path)
            reply = 500, _ApiError(500, type(e).__name__, str(e)).body(), None
        if reply is None:
            # FakeHeat is stopping: hang up without an answer.
            self.close_connection = True
            return
        self._reply(*reply)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _dispatch

    def _read_body(self):
        length = int(self.headers.get('Content-Length') or 0)
        data = self.rfile.read(length) if length else b''
        if not data.strip():
            return {}
        try:
            body = json.loads(data)
        except ValueError as e:
            raise _http_error(400, 'Malformed JSON body: %s' % e)
        if not isinstance(body, dict):
            raise _http_error(400, 'The request body must be a JSON object.')
        return body

    def _root_url(self):
        host = self.headers.get('Host') or '%s:%s' % self.server.server_address
        return 'http://' + host

    def _reply(self, code, body=None, headers=None):
        data = b'' if body is None else json.dumps(body).encode('utf-8')
        self.send_response(code)
        self.send_header('x-openstack-request-id', 'req-%s' % uuid.uuid4())
        if body is not None:
            self.send_header('Content-Type', 'application/json')
        if code != http.HTTPStatus.NO_CONTENT:
            self.send_header('Content-Length', str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if data:
            self.wfile.write(data)

    def log_message(self, fmt, *args):
        LOG.debug('FakeHeat: %s %s', self.address_string(), fmt % args)


def _classify(method, path):
    """Return the kind of a request and the match of its stacks path."""
    match = _STACKS_PATH_RE.match(path)
    if match is None:
        return 'other', None
    if match['name'] is None:
        kind = {'GET': 'list', 'POST': 'create'}.get(method, 'other')
    elif match['id'] is None:
        kind = 'lookup'
    else:
        kind = {'GET': 'show', 'PUT': 'update', 'PATCH': 'update',
                'DELETE': 'delete'}.get(method, 'other')
    return kind, match


class _Notifier:
    """Sends Heat's notifications over oslo.messaging, from one thread.

    The engine hands over notifications with its lock held; they are sent
    in order, by a thread of their own, so that a slow broker does not
    slow the API down.
    """

    def __init__(self, transport_url, topic, exchange, host):
        # The oslo.service backend must be chosen before oslo.messaging is
        # imported; esi_agent.cmd chooses threading.
        from esi_agent import cmd  # noqa: F401
        from oslo_config import cfg
        import oslo_messaging
        from oslo_messaging import opts as messaging_opts

        # A private configuration: the exchange must not change that of
        # an agent running in the same process.
        conf = cfg.ConfigOpts()
        conf([], project='fake-heat', default_config_files=[],
             default_config_dirs=[])
        for group, opts in messaging_opts.list_opts():
            conf.register_opts(opts, group=group)
        conf.set_override('control_exchange', exchange)
        self._transport = oslo_messaging.get_notification_transport(
            conf, url=transport_url)
        self._notifier = oslo_messaging.Notifier(
            self._transport, publisher_id='orchestration.%s' % host,
            driver='messagingv2', topics=[topic])
        self._queue = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._sent = 0
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name='fake-heat-notifier')
        self._thread.start()

    @property
    def sent(self):
        with self._lock:
            return self._sent

    def emit(self, priority, event_type, payload):
        self._queue.put((priority, event_type, payload))

    def _run(self):
        while True:
            item = self._queue.get()
            if item is None:
                return
            priority, event_type, payload = item
            context = {'project_id': payload['tenant_id'],
                       'project': payload['tenant_id'],
                       'user': NOAUTH_USER, 'is_admin': True,
                       'roles': ['admin'],
                       'request_id': 'req-%s' % uuid.uuid4()}
            try:
                getattr(self._notifier, priority)(context, event_type,
                                                  payload)
            except Exception:
                LOG.exception('FakeHeat could not send %s', event_type)
                continue
            with self._lock:
                self._sent += 1

    def stop(self):
        """Send what is queued, then stop."""
        self._queue.put(None)
        self._thread.join()
        self._transport.cleanup()


class FakeHeat(fixtures.Fixture):
    """A Heat API stand-in served over HTTP on loopback.

    Use it as a fixture (``self.useFixture(FakeHeat())``), a context
    manager, or through :meth:`start` and :meth:`stop`. It can be stopped
    and started again: it then listens on the same port and keeps its
    stacks, which simulates a Heat restart.

    :param stack_time: seconds an operation takes when the outcome policy
        sets no delay.
    :param outcome: the outcome policy, a callable taking an
        :class:`Operation` and returning an :class:`Outcome`;
        :func:`default_outcome` if ``None``. It runs, with a lock held,
        when the operation is accepted; it may read :attr:`operations` but
        must not block. If it raises, the request fails with a 500.
    :param host: the address to listen on.
    :param port: the port to listen on; 0 picks a free one.
    :param time_scale: factor applied to every delay and stack timeout,
        e.g. 0.001 lets a 60 minute timeout happen in 3.6 seconds.
    :param max_page_size: the most stacks a list returns at once; ``None``
        for no cap, as in Heat.
    :param notify_url: an oslo.messaging transport URL; when set, Heat's
        stack notifications are sent there (see the module documentation).
    :param notify_topic: the notification topic (Heat's default).
    :param notify_exchange: the exchange (Heat's control_exchange).
    :param notify_host: the publisher is ``orchestration.<notify_host>``.
    :param list_refused: answer every stack list with a 400, as a Heat
        refusing the query would; also :attr:`list_refused`.

    Recording, for assertions (each read returns a copy):

    * :attr:`operations`: the accepted :class:`Operation` list, in order.
    * :attr:`calls`: a Counter of the requests received by kind, one of
      :data:`KINDS`; a lookup is a request by name alone, answered with a
      redirect (the redirected request is counted under its own kind).
      Requests failed by :meth:`fail_next` are counted.
    * :attr:`creates_by_name`: a Counter of the create requests by stack
      name, including those refused (say, because the stack exists), but
      not those failed by :meth:`fail_next`. Above 1, the client tried to
      create a stack twice.
    * :meth:`timeline`: when each operation started and ended.
    * :attr:`notifications_sent`: how many notifications were sent.

    Fault injection: :attr:`latency` (seconds added to every request),
    :meth:`fail_next`, :meth:`pause` and :meth:`resume`.

    The admin resources, which neither count nor suffer injected faults:
    ``GET /_fake/stats``; ``POST /_fake/fail_next`` with a body like
    ``{"count": 2, "status": 503}``; ``POST /_fake/pause`` and
    ``POST /_fake/resume``; ``PUT /_fake/latency`` with ``{"seconds": 1}``;
    ``PUT /_fake/list_refused`` with ``{"refused": true}``;
    ``GET /_fake/timeline`` (``{"timeline": [...]}``, see :meth:`timeline`).
    """

    def __init__(self, stack_time=0.0, outcome=None, host='127.0.0.1',
                 port=0, time_scale=1.0, max_page_size=None,
                 notify_url=None, notify_topic='notifications',
                 notify_exchange='heat', notify_host='fake-heat',
                 list_refused=False):
        super().__init__()
        if max_page_size is not None and max_page_size < 1:
            raise ValueError('max_page_size must be at least 1')
        #: Seconds by which every API request is delayed.
        self.latency = 0.0
        #: Whether stack lists are answered with a 400.
        self.list_refused = list_refused
        self._notify_args = (notify_url, notify_topic, notify_exchange,
                             notify_host)
        self._notifier = None
        self._notifications_sent = 0
        self._host = host
        self._port = port
        self._scheduler = _Scheduler()
        self._engine = _Engine(self._scheduler, stack_time, outcome,
                               time_scale, max_page_size)
        self._lifecycle_lock = threading.Lock()
        self._server = None
        self._thread = None
        self._stopping = threading.Event()
        self._gate = threading.Condition()
        self._paused = False
        self._faults_lock = threading.Lock()
        self._failures = collections.deque()
        self._calls = collections.Counter()

    def _setUp(self):
        self.start()
        self.addCleanup(self.stop)

    # Life cycle

    def start(self):
        """Start serving; return self.

        :raises RuntimeError: if already started.
        """
        with self._lifecycle_lock:
            if self._server is not None:
                raise RuntimeError('FakeHeat is already started')
            self._stopping.clear()
            if self._notify_args[0]:
                self._notifier = _Notifier(*self._notify_args)
                self._engine.on_status = self._notifier.emit
            self._server = _Server((self._host, self._port), self)
            self._port = self._server.server_address[1]
            self._scheduler.start()
            self._thread = threading.Thread(
                target=self._server.serve_forever, kwargs={
                    'poll_interval': 0.05},
                name='fake-heat-%d' % self._port, daemon=True)
            self._thread.start()
        LOG.debug('FakeHeat serving on %s', self.endpoint)
        return self

    def stop(self):
        """Stop serving; does nothing if not started.

        Requests in progress, paused ones included, get no answer: their
        connection is closed.
        """
        with self._lifecycle_lock:
            server, self._server = self._server, None
            if server is None:
                return
            self._stopping.set()
            with self._gate:
                self._gate.notify_all()
            server.shutdown()
            server.close_connections()
            server.server_close()
            self._thread.join()
            self._thread = None
            self._scheduler.stop()
            notifier, self._notifier = self._notifier, None
            if notifier is not None:
                self._engine.on_status = None
                notifier.stop()
                self._notifications_sent += notifier.sent

    @property
    def port(self):
        """The port listened on (known once started)."""
        if not self._port:
            raise RuntimeError('FakeHeat is not started')
        return self._port

    @property
    def endpoint(self):
        """The orchestration endpoint, ``http://<host>:<port>/v1/admin``."""
        return 'http://%s:%d/v1/%s' % (self._host, self.port, PROJECT_ID)

    # Recording

    @property
    def operations(self):
        """The accepted operations, in order (a list of Operation)."""
        return self._engine.operations

    @property
    def calls(self):
        """A Counter of the requests received, by kind."""
        with self._faults_lock:
            return collections.Counter(self._calls)

    @property
    def creates_by_name(self):
        """A Counter of the create requests, by stack name."""
        return self._engine.creates_by_name

    @property
    def notifications_sent(self):
        """How many notifications were sent (0 without ``notify_url``)."""
        notifier = self._notifier
        return self._notifications_sent + (notifier.sent if notifier else 0)

    def timeline(self):
        """Every accepted operation, in order, as a list of dicts.

        Keys: ``action``, ``stack_name``, ``stack_id``, ``tags``,
        ``started_at`` and ``ended_at`` (``time.time()`` values; the
        latter None while in progress or when a later operation superseded
        it) and ``stack_status`` (the status it ended with).
        """
        return self._engine.timeline()

    def stats(self):
        """Counters as plain data, as ``GET /_fake/stats`` returns them."""
        stats = self._engine.stats()
        stats['calls'] = dict(self.calls)
        stats['notifications_sent'] = self.notifications_sent
        return stats

    # Control

    @property
    def outcome(self):
        """The outcome policy; set it to change the fate of new operations.

        Setting ``None`` restores :func:`default_outcome`.
        """
        return self._engine.policy

    @outcome.setter
    def outcome(self, policy):
        self._engine.policy = policy or default_outcome

    def finish(self, stack, outcome=None):
        """End the operation in progress on a stack now.

        The operation ends as if its delay were over (so it does not time
        out), with the outcome the policy chose or ``outcome``.

        :param stack: the name of a live stack, or a stack id.
        :param outcome: an :class:`Outcome` to end with (its delay is
            ignored), instead of the one the policy chose.
        :raises KeyError: if there is no such stack.
        :raises ValueError: if the stack has no operation in progress.
        """
        self._engine.finish(stack, outcome)

    def fail_next(self, n=1, status=503):
        """Answer the next ``n`` API requests with HTTP error ``status``.

        Calls add up: ``fail_next(1, 500); fail_next(2)`` fails the next
        request with a 500 and the two after it with a 503.
        """
        if n < 0:
            raise ValueError('n must not be negative')
        if not 400 <= status < 600 or status not in list(http.HTTPStatus):
            raise ValueError('status must be an HTTP error code')
        with self._faults_lock:
            self._failures.extend([status] * n)

    def pause(self):
        """Hold every API request until :meth:`resume` (a hung Heat)."""
        with self._gate:
            self._paused = True

    def resume(self):
        """Let the requests held by :meth:`pause` proceed."""
        with self._gate:
            self._paused = False
            self._gate.notify_all()

    @property
    def paused(self):
        """Whether API requests are held (see :meth:`pause`)."""
        return self._paused

    # Request handling, called by _RequestHandler

    def _serve(self, method, url, body, root_url):
        """Answer an API request: return (code, body, headers) or None.

        None means no answer at all, because FakeHeat is stopping.
        """
        kind, match = _classify(method, url.path)
        with self._faults_lock:
            self._calls[kind] += 1
        if self.latency > 0 and self._stopping.wait(self.latency):
            return None
        with self._gate:
            self._gate.wait_for(
                lambda: not self._paused or self._stopping.is_set())
        if self._stopping.is_set():
            return None
        with self._faults_lock:
            failure = self._failures.popleft() if self._failures else None
        if failure is not None:
            raise _http_error(failure, 'Failure injected by FakeHeat.')
        if kind == 'other':
            raise _http_error(404, 'The resource could not be found.')
        project, name, stack_id = (
            urllib.parse.unquote(part) if part is not None else None
            for part in match.group('project', 'name', 'id'))
        return self._call_api(kind, method, url, root_url, project, name,
                              stack_id, body)

    def _call_api(self, kind, method, url, root_url, project, name,
                  stack_id, body):
        engine = self._engine
        base_url = root_url + '/v1'
        query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        if kind == 'list':
            if self.list_refused:
                raise _bad_request('Stack list refused by FakeHeat.')
            return 200, engine.list(query, base_url, root_url + url.path), None
        if kind == 'create':
            stack = engine.create(project, body, base_url)
            return (201, {'stack': stack},
                    {'Location': stack['links'][0]['href']})
        if kind == 'lookup':
            project, name, stack_id = engine.lookup(name)
            location = '%s/%s/stacks/%s/%s' % (
                base_url, urllib.parse.quote(project, ''),
                urllib.parse.quote(name, ''), stack_id)
            if url.query:
                location += '?' + url.query
            return 302, None, {'Location': location}
        if kind == 'show':
            resolve_outputs = _extract_bool(
                'resolve_outputs',
                (query.get('resolve_outputs') or ['true'])[-1])
            stack = engine.show(name, stack_id, base_url, resolve_outputs)
            return 200, {'stack': stack}, None
        if kind == 'update':
            engine.update(name, stack_id, body, patch=method == 'PATCH')
            return 202, None, None
        engine.delete(name, stack_id)
        return 204, None, None

    def _admin(self, method, url, body, root_url):
        """Answer a request for one of the ``/_fake/`` admin resources."""
        resource = method, url.path[len(_ADMIN_PREFIX):].strip('/')
        if resource == ('GET', 'stats'):
            return 200, self.stats(), None
        if resource == ('GET', 'timeline'):
            return 200, {'timeline': self.timeline()}, None
        if resource == ('POST', 'fail_next'):
            try:
                self.fail_next(int(body.get('count', 1)),
                               int(body.get('status', 503)))
            except (TypeError, ValueError) as e:
                raise _http_error(400, str(e))
        elif resource == ('POST', 'pause'):
            self.pause()
        elif resource == ('POST', 'resume'):
            self.resume()
        elif resource == ('PUT', 'latency'):
            try:
                self.latency = float(body['seconds'])
            except (KeyError, TypeError, ValueError) as e:
                raise _http_error(400, 'Bad latency: %s' % e)
        elif resource == ('PUT', 'list_refused'):
            refused = body.get('refused')
            if not isinstance(refused, bool):
                raise _http_error(400, 'Bad list_refused: %r' % (refused,))
            self.list_refused = refused
        else:
            raise _http_error(404, 'The resource could not be found.')
        return 204, None, None


def main(argv=None):
    """Serve a FakeHeat until SIGTERM or SIGINT."""
    parser = argparse.ArgumentParser(
        prog='python -m esi_agent.tests.fakes.heat_api',
        description='Serve a stand-in for the Heat orchestration API and '
                    'print its endpoint on stdout once listening.')
    parser.add_argument('--host', default='127.0.0.1')
    parser.add_argument('--port', type=int, default=0,
                        help='port to listen on; 0 (default) picks one')
    parser.add_argument('--stack-time', type=float, default=0.0,
                        help='seconds an operation takes (default 0)')
    parser.add_argument('--time-scale', type=float, default=1.0,
                        help='factor applied to delays and timeouts')
    parser.add_argument('--max-page-size', type=int, default=None,
                        help='most stacks a list returns at once')
    parser.add_argument('--notify', metavar='TRANSPORT_URL',
                        help='send Heat\'s stack notifications to this '
                             'oslo.messaging transport URL')
    parser.add_argument('--notify-topic', default='notifications',
                        help='notification topic (default notifications)')
    parser.add_argument('--notify-exchange', default='heat',
                        help='notification exchange (default heat)')
    parser.add_argument('--list-refused', action='store_true',
                        help='answer stack lists with a 400')
    parser.add_argument('--debug', action='store_true',
                        help='log every request on stderr')
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.INFO,
                        stream=sys.stderr)

    stopped = threading.Event()

    def on_signal(signum, frame):
        stopped.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    fake = FakeHeat(stack_time=args.stack_time, host=args.host,
                    port=args.port, time_scale=args.time_scale,
                    max_page_size=args.max_page_size,
                    notify_url=args.notify, notify_topic=args.notify_topic,
                    notify_exchange=args.notify_exchange,
                    list_refused=args.list_refused)
    fake.start()
    try:
        print(fake.endpoint, flush=True)
        stopped.wait()
    finally:
        fake.stop()
    return 0


if __name__ == '__main__':
    sys.exit(main())
