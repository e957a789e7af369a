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
"""Heat's notifications, taken as hints that a stack reached its end.

Heat (``[oslo_messaging_notifications] driver = messagingv2``) sends one
notification per stack status change, on exchange ``heat`` and topic
``notifications``: ``orchestration.stack.<action>.start`` when an action
begins, ``.end`` when it completes, ``.error`` when it fails (at ERROR
priority). The payload (``heat.engine.api.format_notification_body``)
carries ``stack_identity`` (the stack id; an ARN in older releases),
``stack_name``, ``state`` (``CREATE_COMPLETE``...), ``state_reason`` and
``tags``.

:class:`StackEndpoint` passes the ``.end`` and ``.error`` ones to
:meth:`esi_agent.jobs.runner.JobRunner.stack_event`, which finishes the job
of an in-flight stack of this agent at once and ignores anything else.
What is plainly not ours is dropped before: stacks without the
``[heat] stack_tag`` tag (nested stacks, other users' stacks) and the
backup stacks ``<name>*`` that Heat's legacy engine creates and deletes
during updates. A lost or late notification costs latency only: the
periodic reconcile stays the source of truth.

A terminal notification may come before the runner tracks the stack: when
Heat ends the operation before the create or update call has returned to
the agent (a fast stack, a busy agent). The runner keeps such events for a
few seconds in :class:`EarlyEvents` and looks there when it starts to track
a stack.
"""

import collections
import threading
import time

from oslo_log import log as logging
import oslo_messaging as messaging

from esi_agent.heat import stacks as stacks_mod

LOG = logging.getLogger(__name__)

#: Terminal stack notifications (Heat's publisher is orchestration.<host>).
EVENT_TYPE_RE = r'^orchestration\.stack\.[a-z_]+\.(end|error)$'
PUBLISHER_RE = r'^orchestration(\.|$)'

_ARN_PREFIX = 'arn:openstack:heat:'

# Why a notification was dropped, for the counters.
(RECEIVED, NOT_A_STACK, BACKUP, NOT_OURS, NOT_TERMINAL, NOT_IN_FLIGHT,
 TAKEN, FAILED) = ('received', 'malformed', 'backup_stack', 'not_tagged',
                   'not_terminal', 'not_in_flight', 'taken', 'errors')


class StackNotification(object):
    """What the agent reads of one stack notification."""

    __slots__ = ('stack_id', 'stack_name', 'state', 'reason', 'tags')

    def __init__(self, stack_id, stack_name, state, reason='', tags=None):
        self.stack_id = stack_id
        self.stack_name = stack_name
        self.state = state
        self.reason = reason or ''
        self.tags = tags

    def __repr__(self):
        return '<StackNotification %s/%s %s>' % (
            self.stack_name, self.stack_id, self.state)


def stack_id_of(identity):
    """The stack id in a notification's ``stack_identity``.

    Heat sends the id itself; older releases sent the stack's ARN,
    ``arn:openstack:heat::<project>:stacks/<name>/<id>``, and its API shows
    identities as dicts with a ``stack_id`` key. None when there is none.
    """
    if isinstance(identity, dict):
        identity = identity.get('stack_id')
    if not isinstance(identity, str) or not identity:
        return None
    if identity.startswith(_ARN_PREFIX):
        path = identity.split(':', 5)[-1].split('/')
        if len(path) < 3 or path[0] != 'stacks' or not path[2]:
            return None
        return path[2]
    return identity


def parse(payload):
    """A :class:`StackNotification` of a Heat stack payload, or None."""
    if not isinstance(payload, dict):
        return None
    stack_id = stack_id_of(payload.get('stack_identity'))
    name = payload.get('stack_name')
    state = payload.get('state')
    if not (stack_id and isinstance(name, str) and name
            and isinstance(state, str)):
        return None
    reason = payload.get('state_reason')
    tags = payload.get('tags')
    if isinstance(tags, str):
        tags = [t for t in tags.split(',') if t]
    elif not isinstance(tags, (list, tuple)):
        tags = None
    return StackNotification(stack_id, name, state,
                             reason if isinstance(reason, str) else '',
                             tags)


class EarlyEvents(object):
    """Terminal stack events that came before their stack was tracked.

    Bounded and expiring: at most ``size`` events (the oldest go first),
    each for ``ttl`` seconds; one per stack name, the latest. Not
    thread-safe: the runner calls it under its lock of in-flight stacks.
    """

    TTL = 10.0
    SIZE = 10000

    def __init__(self, ttl=TTL, size=SIZE, clock=time.monotonic):
        self._ttl = ttl
        self._size = size
        self._clock = clock
        self._events = collections.OrderedDict()
        self.stats = collections.Counter()

    def __len__(self):
        return len(self._events)

    def keep(self, event):
        """Keep a terminal event (a StackStatus with the stack's tags)."""
        now = self._clock()
        self._events.pop(event.name, None)
        self._events[event.name] = (event, now)
        self.stats['kept'] += 1
        while self._events:
            _status, kept_at = next(iter(self._events.values()))
            if len(self._events) <= self._size and now - kept_at < self._ttl:
                break
            self._events.popitem(last=False)

    def take(self, started, tag, since):
        """The kept end of the stack operation ``started``, or None.

        An event matches when it is of the same stack id and action, came
        at or after ``since`` (when the job began: an older one ended an
        earlier operation) and, but for a delete, the stack carried the
        job's ``tag`` (a create or an update gives the stack its job's
        tag; a delete leaves the tags of the job before). The event kept
        for the stack is dropped whether it matches or not.

        :param started: the StackStatus the operation began with.
        :param tag: the job's tag (:func:`stacks.job_tag`).
        :param since: a ``clock`` value; None matches nothing.
        """
        found = self._events.pop(started.name, None)
        if found is None:
            return None
        event, kept_at = found
        action = started.status.split('_')[0]
        if (event.id != started.id
                or event.status.split('_')[0] != action
                or since is None or kept_at < since
                or self._clock() - kept_at >= self._ttl
                or (action != 'DELETE' and tag not in event.tags)):
            self.stats['stale'] += 1
            return None
        self.stats['taken'] += 1
        return event


class StackEndpoint(object):
    """The notification endpoint: terminal stack events to the runner.

    :param runner: has ``stack_event(stack_id, stack_name, stack_status,
        reason, tags=None)``, True when it took the event.
    :param stack_tag: the tag every stack of the agent carries; a
        notification whose ``tags`` lack it is ignored (one without
        ``tags`` is passed on: the runner knows its own stacks).
    """

    filter_rule = messaging.NotificationFilter(
        publisher_id=PUBLISHER_RE, event_type=EVENT_TYPE_RE)

    def __init__(self, runner, stack_tag):
        self._runner = runner
        self._stack_tag = stack_tag
        self._lock = threading.Lock()
        self._stats = collections.Counter()

    @property
    def stats(self):
        """Counters: received, taken, and why the others were ignored.

        With the runner's :class:`EarlyEvents`, also how many events that
        came before their stack was tracked were kept (``early_kept``),
        then taken when it was (``early_taken``) or not (``early_stale``).
        """
        with self._lock:
            stats = dict(self._stats)
        early = getattr(self._runner, 'early_events', None)
        if isinstance(early, EarlyEvents):
            stats.update(('early_' + k, v) for k, v in early.stats.items())
        return stats

    def _count(self, what):
        with self._lock:
            self._stats[what] += 1

    def info(self, ctxt, publisher_id, event_type, payload, metadata):
        self._handle(event_type, payload)

    # Heat sends .error notifications at ERROR priority.
    error = info

    def _handle(self, event_type, payload):
        self._count(RECEIVED)
        try:
            self._count(self._dispatch(event_type, payload))
        except Exception:
            self._count(FAILED)
            LOG.exception('Failed to handle the Heat notification %s',
                          event_type)

    def _dispatch(self, event_type, payload):
        event = parse(payload)
        if event is None:
            LOG.debug('Ignoring a %s notification without a stack',
                      event_type)
            return NOT_A_STACK
        if event.stack_name.endswith('*'):
            return BACKUP
        if event.tags is not None and self._stack_tag not in event.tags:
            return NOT_OURS
        if not stacks_mod.is_terminal(event.state):
            return NOT_TERMINAL
        if self._runner.stack_event(event.stack_id, event.stack_name,
                                    event.state, event.reason,
                                    tags=event.tags):
            LOG.debug('Notification %(type)s: stack %(name)s/%(id)s is '
                      '%(state)s', {'type': event_type,
                                    'name': event.stack_name,
                                    'id': event.stack_id,
                                    'state': event.state})
            return TAKEN
        return NOT_IN_FLIGHT


class NotificationListener(object):
    """Listens to Heat's notifications; see the ``[heat]`` options.

    The transport is ``[oslo_messaging_notifications] transport_url``, or
    ``[DEFAULT] transport_url`` when unset.
    """

    def __init__(self, conf, runner):
        self._conf = conf
        self.endpoint = StackEndpoint(runner, conf.heat.stack_tag)
        self._transport = None
        self._listener = None

    @property
    def target(self):
        heat = self._conf.heat
        return messaging.Target(exchange=heat.notifications_exchange,
                                topic=heat.notifications_topic)

    def start(self):
        self._transport = messaging.get_notification_transport(self._conf)
        self._listener = messaging.get_notification_listener(
            self._transport, [self.target], [self.endpoint],
            pool=self._conf.heat.notifications_pool)
        self._listener.start()
        LOG.info('Listening to Heat notifications on exchange %(ex)s, '
                 'topic %(topic)s%(pool)s',
                 {'ex': self.target.exchange, 'topic': self.target.topic,
                  'pool': (', pool %s' % self._conf.heat.notifications_pool
                           if self._conf.heat.notifications_pool else '')})

    def stop(self):
        """Stop taking notifications; :meth:`wait` for the last ones."""
        if self._listener is not None:
            self._listener.stop()

    def wait(self):
        listener, self._listener = self._listener, None
        transport, self._transport = self._transport, None
        try:
            if listener is not None:
                listener.wait()
        finally:
            if transport is not None:
                transport.cleanup()
