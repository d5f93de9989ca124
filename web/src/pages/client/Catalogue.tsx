// The catalogue and the order form (R11.1 fixed term, R11.2 monthly subscription).
import { useState, type FormEvent } from 'react';
import { api, call, type ApiError } from '../../api/client.ts';
import { EmptyState, ErrorNote, Loading, Page, useResource } from '../../components/ui.tsx';
import { useI18n } from '../../i18n/index.tsx';
import { navigate } from '../../router.tsx';
import { formatMoney, formatRate } from './InvoicesFormat.tsx';

export function CataloguePage() {
  const { t, language } = useI18n();
  const catalogue = useResource(() => call(api.GET('/v1/catalogue')));
  const [planId, setPlanId] = useState('');
  const [datacenterId, setDatacenterId] = useState('');
  const [kind, setKind] = useState<'fixed' | 'subscription'>('fixed');
  const [termMonths, setTermMonths] = useState(12);
  const [hostname, setHostname] = useState('');
  const [username, setUsername] = useState('');
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);

  const plans = catalogue.status === 'ready' ? catalogue.data.plans : [];
  const plan = plans.find((p) => p.id === planId);
  const months = kind === 'fixed' ? termMonths : 1;

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    const result = await call(
      api.POST('/v1/orders', {
        body: {
          planId,
          datacenterId,
          kind,
          termMonths: kind === 'fixed' ? termMonths : null,
          hostname: hostname.trim(),
          username: username.trim() || null,
        },
      }),
    );
    setBusy(false);
    if (!result.ok) {
      setError(result.error);
      return;
    }
    navigate(`/client/invoices/${result.data.invoice.id}`);
  }

  return (
    <Page title={t('nav.client.catalogue')}>
      {catalogue.status === 'loading' ? <Loading /> : null}
      {catalogue.status === 'error' ? <ErrorNote error={catalogue.error} /> : null}
      {catalogue.status === 'ready' ? (
        <>
          <p className="muted">{t('commerce.termsVersion', { version: catalogue.data.termsVersion })}</p>
          {plans.length === 0 ? (
            <EmptyState text={t('commerce.noPlans')} />
          ) : (
            <div className="table-wrap">
              <table data-testid="catalogue">
                <thead>
                  <tr>
                    <th scope="col">{t('commerce.plan')}</th>
                    <th scope="col" className="num">
                      vCPU
                    </th>
                    <th scope="col" className="num">
                      {t('commerce.ram')}
                    </th>
                    <th scope="col" className="num">
                      {t('commerce.disk')}
                    </th>
                    <th scope="col" className="num">
                      {t('commerce.priceMonthly')}
                    </th>
                    <th scope="col">{t('commerce.datacenters')}</th>
                  </tr>
                </thead>
                <tbody>
                  {plans.map((p) => (
                    <tr key={p.id}>
                      <td>
                        <strong>{p.name}</strong> <code>{p.code}</code>
                      </td>
                      <td className="num">{p.vcpus}</td>
                      <td className="num">{p.memoryMiB} MiB</td>
                      <td className="num">{p.diskGiB} GiB</td>
                      <td className="num">
                        {formatMoney(p.monthlyPriceCents, language)} {t('commerce.exclVat')}
                        <br />
                        <span className="muted">
                          {formatMoney(p.monthlyPriceWithVatCents, language)} {t('commerce.inclVat')} (
                          {t('commerce.vat')} {formatRate(p.vatRateBp, language)})
                        </span>
                      </td>
                      <td>{p.datacenters.map((d) => `${d.name} (${d.city})`).join(', ')}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          {plans.length > 0 ? (
            <section className="card" aria-labelledby="order-title">
              <h2 id="order-title">{t('commerce.orderTitle')}</h2>
              <form className="inline-form" onSubmit={(e) => void submit(e)} data-testid="order-form">
                <label>
                  {t('commerce.plan')}
                  <select
                    name="plan"
                    required
                    value={planId}
                    onChange={(e) => {
                      setPlanId(e.target.value);
                      setDatacenterId('');
                    }}
                  >
                    <option value="">—</option>
                    {plans.map((p) => (
                      <option key={p.id} value={p.id}>
                        {p.name} ({formatMoney(p.monthlyPriceCents, language)} {t('commerce.exclVat')})
                      </option>
                    ))}
                  </select>
                </label>
                <label>
                  {t('commerce.datacenter')}
                  <select
                    name="datacenter"
                    required
                    value={datacenterId}
                    onChange={(e) => setDatacenterId(e.target.value)}
                  >
                    <option value="">—</option>
                    {(plan?.datacenters ?? []).map((d) => (
                      <option key={d.id} value={d.id}>
                        {d.name} ({d.city}, {d.country})
                      </option>
                    ))}
                  </select>
                </label>
                <fieldset>
                  <legend>{t('commerce.duration')}</legend>
                  <label>
                    <input
                      type="radio"
                      name="kind"
                      value="fixed"
                      checked={kind === 'fixed'}
                      onChange={() => setKind('fixed')}
                    />{' '}
                    {t('commerce.kind.fixed')}
                  </label>
                  {kind === 'fixed' ? (
                    <label>
                      {t('commerce.termMonths')}
                      <input
                        type="number"
                        name="termMonths"
                        min={1}
                        max={36}
                        required
                        value={termMonths}
                        onChange={(e) => setTermMonths(Number(e.target.value))}
                      />
                    </label>
                  ) : null}
                  <label>
                    <input
                      type="radio"
                      name="kind"
                      value="subscription"
                      checked={kind === 'subscription'}
                      onChange={() => setKind('subscription')}
                    />{' '}
                    {t('commerce.kind.subscription')}
                  </label>
                </fieldset>
                <label>
                  {t('commerce.hostname')}
                  <input
                    name="hostname"
                    required
                    maxLength={63}
                    pattern="[a-z][a-z0-9\-]{0,62}"
                    value={hostname}
                    onChange={(e) => setHostname(e.target.value)}
                  />
                </label>
                <label>
                  {t('commerce.username')}
                  <input
                    name="username"
                    maxLength={32}
                    value={username}
                    onChange={(e) => setUsername(e.target.value)}
                  />
                  <span className="hint">{t('commerce.usernameHint')}</span>
                </label>
                {plan ? (
                  <p className="note" data-testid="order-total">
                    {t('commerce.firstInvoice', {
                      months,
                      net: formatMoney(plan.monthlyPriceCents * months, language),
                    })}
                  </p>
                ) : null}
                <ErrorNote error={error} />
                <button type="submit" className="button-primary" disabled={busy}>
                  {t('commerce.placeOrder')}
                </button>
              </form>
            </section>
          ) : null}
        </>
      ) : null}
    </Page>
  );
}
