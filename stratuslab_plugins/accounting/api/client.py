"""A client of the usage API, for Horizon and ``openstack accounting``.

Calls go through a keystoneauth1 session (retries, TLS, token headers are
its job), either found in the catalog (service type ``accounting``) or at
an explicit endpoint::

    client = UsageClient(session, endpoint='https://acc.example.org:8779')
    client.usage(since='2026-11-01', step='day', by='vo')

Errors come back as :class:`APIError` with the API's own message, which
names what to configure.
"""

from keystoneauth1 import exceptions as ks_exceptions

from stratuslab_plugins.accounting import exceptions

SERVICE_TYPE = 'accounting'


class APIError(exceptions.AccountingError):
    """The usage API refused a request or could not be reached."""

    def __init__(self, message, status=None):
        self.status = status
        super().__init__(message)


class UsageClient:
    """Read the usage API.

    :param session: a keystoneauth1 session whose auth gives the caller's
        token.
    :param endpoint: the API's base URL; None to look it up in the
        catalog as service type ``accounting``.
    """

    def __init__(self, session, endpoint=None, interface='public',
                 region_name=None):
        self.session = session
        self.endpoint = endpoint.rstrip('/') if endpoint else None
        self.filter = {'service_type': SERVICE_TYPE, 'interface': interface,
                       'region_name': region_name}

    def _get(self, resource, params):
        params = {k: v for k, v in params.items() if v is not None}
        kwargs = ({'endpoint_override': self.endpoint} if self.endpoint
                  else {'endpoint_filter': self.filter})
        try:
            response = self.session.get('/v1/' + resource, params=params,
                                        raise_exc=False, **kwargs)
        except ks_exceptions.EndpointNotFound:
            raise APIError('no usage API in the catalog: register the '
                           'service type %r or configure its URL'
                           % SERVICE_TYPE)
        except ks_exceptions.ConnectFailure as exc:
            raise APIError('the usage API at %s cannot be reached: %s'
                           % (self.endpoint or SERVICE_TYPE, exc))
        try:
            body = response.json()
        except ValueError:
            body = {'error': response.text[:200]}
        if response.status_code != 200:
            raise APIError('usage API: HTTP %d: %s' % (
                response.status_code, body.get('error', body)),
                status=response.status_code)
        return body

    def usage(self, since=None, until=None, step='day', by='vo'):
        return self._get('usage', {'since': since, 'until': until,
                                   'step': step, 'by': by})

    def records(self, since=None, until=None):
        return self._get('records', {'since': since, 'until': until})

    def queue(self):
        return self._get('queue', {})
