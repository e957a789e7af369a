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

"""Heat template bodies: where they come from and how they are rendered.

A body is the ``body.template_file`` of the etcd record
``/config/v2.0/heat_templates/<template_id>`` that the ESI API publishes, or
else the file ``<template_dir>/<template_id>.yaml``. It is rendered with
Jinja2 in a sandbox, with Jinja2's default delimiters and whitespace
handling, so that a template cannot reach Python internals and renders
exactly as it did in the worker this agent replaces.

The agent keeps the bodies in memory (:class:`CachedTemplateSource`) and
checks them again at most every ``[templates] refresh_interval`` seconds.
"""

import functools
import os
import re
import threading
import time
import traceback

import jinja2
from jinja2 import sandbox
import yaml

from esi_agent import exception
from esi_agent.i18n import _

ETCD_PREFIX = '/config/v2.0/heat_templates/'
FILE_SUFFIX = '.yaml'

# Letters, digits, '_', '-' and '.', not first: a plain file name.
_SAFE_ID = re.compile(r'[A-Za-z0-9_-][A-Za-z0-9_.-]*\Z')

# Jinja2 rewrites the traceback of a runtime error so that the frames of a
# template made from a string have this file name and the template's lines.
_TEMPLATE_FILENAME = '<template>'


class _Sandbox(sandbox.SandboxedEnvironment):
    """Jinja2's sandbox, failing at the first unsafe attribute access.

    Jinja2 answers ``{{ ''.__class__ }}`` or ``{{ self._private }}`` with an
    undefined value that renders as an empty string and only raises when
    used further; a template reaching for Python internals is an error in
    its own right, reported as a sandbox violation.
    """

    def unsafe_undefined(self, obj, attribute):
        raise jinja2.exceptions.SecurityError(
            'access to attribute %r of %r object is unsafe.'
            % (attribute, type(obj).__name__))


_ENVIRONMENT = _Sandbox()

_YAML_LOADER = getattr(yaml, 'CSafeLoader', yaml.SafeLoader)


class TemplateSource(object):
    """Finds the body of a Heat template.

    :param read_json: ``read_json(key)`` returns the parsed JSON value
        stored at an etcd key, or ``None`` if there is none.
    :param template_dir: the directory of fallback ``<template_id>.yaml``
        files, or ``None``.
    """

    def __init__(self, read_json, template_dir):
        self._read_json = read_json
        self._template_dir = template_dir

    def get(self, template_id):
        """Return the body of a template, as text.

        :raises TemplateRenderError: if ``template_id`` is not a plain file
            name or its etcd record or file cannot be read.
        :raises TemplateNotFound: if neither etcd nor ``template_dir`` has
            the template.
        """
        if not _SAFE_ID.match(template_id):
            raise exception.TemplateRenderError(
                template_id=template_id,
                reason=_('a template id may only contain letters, digits, '
                         '"_", "-" and "." (not first)'))
        body = self._from_etcd(template_id)
        if body is None:
            body = self._from_file(template_id)
        if body is None:
            raise exception.TemplateNotFound(
                template_id=template_id,
                etcd_key=ETCD_PREFIX + template_id,
                path=self._path(template_id) or _('not configured'))
        return body

    def _from_etcd(self, template_id):
        key = ETCD_PREFIX + template_id
        record = self._read_json(key)
        return self._etcd_body(template_id, key, record)

    @staticmethod
    def _etcd_body(template_id, key, record):
        """The body in an etcd record; None when absent or deleted."""
        if record is None:
            return None
        try:
            if record.get('marked_for_deletion'):
                return None
            template_file = record['body']['template_file']
        except (AttributeError, KeyError, TypeError):
            template_file = None
        if not isinstance(template_file, str):
            raise exception.TemplateRenderError(
                template_id=template_id,
                reason=_('the etcd record %s has no body.template_file '
                         'string') % key)
        return template_file

    def _path(self, template_id):
        if self._template_dir:
            return os.path.join(self._template_dir,
                                template_id + FILE_SUFFIX)

    def _from_file(self, template_id):
        path = self._path(template_id)
        if path is None:
            return None
        try:
            with open(path, encoding='utf-8') as f:
                return f.read()
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as e:
            raise exception.TemplateRenderError(
                template_id=template_id,
                reason=_('cannot read %(path)s: %(error)s') %
                {'path': path, 'error': e})


class _Snapshot(object):
    """The template records in etcd, and the files read since."""

    __slots__ = ('stamp', 'records', 'files', 'checked')

    def __init__(self, stamp, records, checked):
        # (count, highest mod_revision) of the keys under ETCD_PREFIX.
        self.stamp = stamp
        # etcd key -> parsed record, or the ValueError of an unreadable one
        self.records = records
        # template id -> body of its file, or None when there is none
        self.files = {}
        # time.monotonic() when the stamp was found current
        self.checked = checked


class CachedTemplateSource(TemplateSource):
    """A :class:`TemplateSource` that keeps the bodies in memory.

    It holds every record under ``/config/v2.0/heat_templates/`` (they are
    small, and read again only when one changes) and the ``template_dir``
    files it has read. At most every ``refresh_interval`` seconds, a render
    checks them first: one small etcd request gives the number of keys
    under the prefix and their latest ``mod_revision``; when either
    changed (a template was published, marked for deletion or deleted) the
    records are read again, and the files are read again in any case. A
    new body is thus used by the renders that start ``refresh_interval``
    seconds after its publication at the latest; 0 checks at every render.

    :param client: an :class:`esi_agent.etcd.EtcdClient` (``prefix_stat``
        and ``snapshot``).
    """

    def __init__(self, client, template_dir, refresh_interval):
        super().__init__(None, template_dir)
        self._client = client
        self._interval = refresh_interval
        self._lock = threading.Lock()
        self._snapshot = None

    def _current(self):
        """The snapshot, checked within the last refresh interval."""
        snap = self._snapshot
        if snap is not None and (time.monotonic() - snap.checked
                                 < self._interval):
            return snap
        with self._lock:
            snap = self._snapshot
            now = time.monotonic()
            if snap is not None and now - snap.checked < self._interval:
                return snap
            stamp = self._client.prefix_stat(ETCD_PREFIX)
            if snap is not None and stamp == snap.stamp:
                records = snap.records
            else:
                kvs, _revision = self._client.snapshot(ETCD_PREFIX)
                stamp = (len(kvs), max((kv.mod_revision for kv in kvs),
                                       default=0))
                records = {kv.key: _parse(kv) for kv in kvs}
            self._snapshot = _Snapshot(stamp, records, now)
            return self._snapshot

    def _from_etcd(self, template_id):
        key = ETCD_PREFIX + template_id
        record = self._current().records.get(key)
        if isinstance(record, ValueError):
            raise exception.TemplateRenderError(
                template_id=template_id,
                reason=_('the etcd record %(key)s is not JSON: %(error)s')
                % {'key': key, 'error': record})
        return self._etcd_body(template_id, key, record)

    def _from_file(self, template_id):
        # get() asked _from_etcd() first, which checked the snapshot.
        files = self._snapshot.files
        if template_id in files:
            return files[template_id]
        body = super()._from_file(template_id)
        files[template_id] = body
        return body


def _parse(kv):
    try:
        return kv.json()
    except ValueError as e:
        return e


@functools.lru_cache(maxsize=128)
def _compile(body):
    return _ENVIRONMENT.from_string(body)


def render(template_id, body, jinja_parameters):
    """Render a template body with the ``jinja_*`` params of a job.

    :returns: the rendered text, to be sent to Heat unchanged.
    :raises TemplateRenderError: on a syntax error, a sandbox violation or
        any other error while rendering.
    """
    try:
        return _compile(body).render(jinja_parameters)
    except Exception as e:
        # A Python error may quote a value, e.g. "'s3cret' is not in list".
        raise exception.TemplateRenderError(
            template_id=template_id, reason=exception.scrub(
                _render_error(e),
                exception.secret_strings(jinja_parameters)))


def _render_error(error):
    """Return a readable reason for an error raised while rendering."""
    if isinstance(error, jinja2.TemplateSyntaxError):
        kind, line = _('syntax error'), error.lineno
        message = error.message
    else:
        if isinstance(error, jinja2.exceptions.SecurityError):
            kind = _('sandbox violation')
        else:
            kind = type(error).__name__
        line = _template_line(error)
        message = str(error)
    if line is None:
        return _('%(kind)s: %(message)s') % {'kind': kind,
                                             'message': message}
    return _('%(kind)s at line %(line)d: %(message)s') % {
        'kind': kind, 'line': line, 'message': message}


def _template_line(error):
    """Return the template line a runtime error was raised at, or None."""
    lines = [frame.lineno
             for frame in traceback.extract_tb(error.__traceback__)
             if frame.filename == _TEMPLATE_FILENAME]
    return lines[-1] if lines else None


def check_rendered(template_id, text):
    """Check that a rendered template is a YAML mapping.

    This only validates ``text``; Heat receives it unchanged.

    :raises TemplateRenderError: if ``text`` is not YAML or not a mapping.
    """
    try:
        loader = _YAML_LOADER(text)
        try:
            root = loader.get_single_node()
            if root is not None and _plain_mapping(loader, root):
                return
        finally:
            loader.dispose()
        document = yaml.load(text, Loader=_YAML_LOADER)
    except yaml.YAMLError as e:
        raise exception.TemplateRenderError(
            template_id=template_id,
            reason=_('the rendered template is not valid YAML: %s') %
            _yaml_error(e))
    if not isinstance(document, dict):
        raise exception.TemplateRenderError(
            template_id=template_id,
            reason=_('the rendered template is not a YAML mapping (it '
                     'loads as %s)') % type(document).__name__)


_YAML_TAG = 'tag:yaml.org,2002:'
# Scalars whose construction cannot fail, and those that can.
_SURE_TAGS = frozenset(_YAML_TAG + t for t in ('str', 'null', 'bool'))
_CONSTRUCTED_TAGS = frozenset(_YAML_TAG + t
                              for t in ('int', 'float', 'timestamp'))


def _plain_mapping(loader, root):
    """Whether the composed document ``root`` surely loads as a dict.

    A full ``yaml.load`` also constructs every value, which took half of
    the time of a check. Here a mapping of plain nodes is enough: str,
    null and bool scalars (which always construct), int, float and
    timestamp scalars (constructed, raising as a full load would),
    sequences, and mappings with scalar keys. Anything else (another tag,
    a merge key, a key that is not a scalar) is left to a full load, which
    says what is wrong with it.
    """
    if not isinstance(root, yaml.MappingNode):
        return False
    todo, seen = [root], set()
    while todo:
        node = todo.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.ScalarNode):
            if node.tag in _CONSTRUCTED_TAGS:
                loader.construct_object(node)
            elif node.tag not in _SURE_TAGS:
                return False
        elif isinstance(node, yaml.MappingNode):
            if node.tag != _YAML_TAG + 'map':
                return False
            for key, value in node.value:
                if not isinstance(key, yaml.ScalarNode):
                    return False
                todo.append(key)
                todo.append(value)
        elif (isinstance(node, yaml.SequenceNode)
                and node.tag == _YAML_TAG + 'seq'):
            todo.extend(node.value)
        else:
            return False
    return True


def _yaml_error(error):
    """Return a one-line description of a YAML error."""
    mark = getattr(error, 'problem_mark', None)
    problem = getattr(error, 'problem', None) or str(error)
    if mark is None:
        return problem
    return _('%(problem)s at line %(line)d, column %(column)d') % {
        'problem': problem, 'line': mark.line + 1,
        'column': mark.column + 1}
