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
"""What the esi-agent-manage commands share: errors, input and cells."""

import argparse
import datetime
import json

from cliff import columns
from oslo_utils import strutils

from esi_agent import exception


class ManageError(Exception):
    """A failure reported in one line; the command exits non-zero."""


def seconds(text):
    """An argparse type: a duration in seconds, >= 0."""
    try:
        value = float(text)
    except ValueError:
        value = -1
    if not 0 <= value < float('inf'):
        raise argparse.ArgumentTypeError(
            'not a number of seconds: %r' % text)
    return value


def resource(text):
    """An argparse type: ``TYPE`` or ``TYPE/ID``, as ``(type, id)``."""
    rtype, _sep, rid = text.partition('/')
    if not rtype:
        raise argparse.ArgumentTypeError('not TYPE or TYPE/ID: %r' % text)
    return rtype, rid or None


def masked_job(job):
    """A job body with its secrets masked, for a person to read.

    The values of params whose names say they are secret, the secret
    fields of ``resource_input`` (at any depth) and whatever
    ``strutils.mask_dict_password`` recognises become ``***``. A job
    rejected at intake keeps the job as received under ``as_received``,
    masked the same way.
    """
    if not isinstance(job, dict):
        return job
    job = dict(job)
    if isinstance(job.get('params'), list):
        job['params'] = _masked_params(job['params'])
    if 'resource_input' in job:
        job['resource_input'] = exception.mask_secrets(job['resource_input'])
    if isinstance(job.get('as_received'), dict):
        job['as_received'] = masked_job(job['as_received'])
    return strutils.mask_dict_password(job)


def _masked_params(params):
    masked = []
    for param in params:
        if isinstance(param, dict):
            param = dict(param)
            if exception.is_secret(param.get('param')):
                param['value'] = exception.mask_secrets(param.get('value'),
                                                        secret=True)
            elif isinstance(param.get('value'), list):
                param['value'] = _masked_params(param['value'])
        masked.append(param)
    return masked


# Cells: readable in tables, plain data in JSON and YAML.

class Timestamp(columns.FormattableColumn):
    """Seconds since the epoch; ISO 8601 UTC in tables."""

    def human_readable(self):
        if self._value is None:
            return ''
        return datetime.datetime.fromtimestamp(
            self._value, datetime.timezone.utc).strftime(
                '%Y-%m-%dT%H:%M:%SZ')


class Text(columns.FormattableColumn):
    """A long text, cut to WIDTH characters in tables."""

    WIDTH = 100

    def human_readable(self):
        text = str(self._value or '')
        if len(text) <= self.WIDTH:
            return text
        return text[:self.WIDTH - 3] + '...'


class Json(columns.FormattableColumn):
    """A record; indented JSON in tables."""

    def human_readable(self):
        return json.dumps(self._value, indent=2, sort_keys=True,
                          ensure_ascii=False)


class Counts(columns.FormattableColumn):
    """A dict of counts; ``key=n, key=n`` in tables."""

    def human_readable(self):
        return ', '.join('%s=%s' % item for item in sorted(
            self._value.items()))


class Names(columns.FormattableColumn):
    """A list of names; comma-separated in tables."""

    def human_readable(self):
        return ', '.join(self._value)
