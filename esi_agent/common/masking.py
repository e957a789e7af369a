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
"""Masking of secrets in the DEBUG lines of the libraries the agent uses.

keystoneauth1 logs every Heat API request and response at DEBUG, bodies
included: the stack parameters (passwords among them) and the rendered
templates. :class:`HttpBodyFilter`, installed on keystoneauth's session
loggers by :func:`install`, rewrites those lines before any handler sees
them: a JSON body gets ``mask_dict_password`` and the agent's own
masking of every value under a secret-looking key (nested too), the
templates it carries are left out (a template rendered with Jinja holds the
values of its params in no recognisable place), and anything else gets
``mask_password``.
"""

import json
import logging

from oslo_utils import strutils

from esi_agent import exception

#: keystoneauth's loggers: one, or one per part with split_loggers.
LOGGERS = ('keystoneauth.session', 'keystoneauth.session.request',
           'keystoneauth.session.response', 'keystoneauth.session.body')

#: Fields of a Heat request that hold template text.
TEMPLATE_FIELDS = ('template', 'files', 'environment')

_DATA = " -d '"


def mask_body(text):
    """``text`` with its secrets masked: JSON when it parses, else text."""
    try:
        body = json.loads(text)
    except ValueError:
        return strutils.mask_password(text)
    if isinstance(body, dict):
        for field in TEMPLATE_FIELDS:
            if isinstance(body.get(field), (str, dict)):
                body[field] = '<%s omitted: %d bytes>' % (
                    field, len(json.dumps(body[field])))
        body = strutils.mask_dict_password(body)
    return json.dumps(exception.mask_secrets(body), ensure_ascii=False)


def mask_line(message):
    """A keystoneauth DEBUG line with the body it ends with masked."""
    start = message.find(_DATA)
    if start != -1 and message.endswith("'"):
        head = message[:start + len(_DATA)]
        return head + mask_body(message[len(head):-1]) + "'"
    for prefix in ('RESP BODY: ', ''):
        if message.startswith(prefix) and message[len(prefix):][:1] in '{[':
            return prefix + mask_body(message[len(prefix):])
    return strutils.mask_password(message)


class HttpBodyFilter(logging.Filter):
    """Masks the secrets of the HTTP bodies a library logs."""

    def filter(self, record):
        try:
            message = record.getMessage()
        except Exception:
            # Leave a record that cannot be formatted to the handler, which
            # reports it as logging does.
            return True
        record.msg, record.args = mask_line(message), ()
        return True


_FILTER = HttpBodyFilter()


def install():
    """Mask the HTTP bodies keystoneauth logs (idempotent)."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
