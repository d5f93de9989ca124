// "Not allowed" and "not found" pages, shown inside the user's own frame.
import { Link } from '../router.tsx';
import { Page } from '../components/ui.tsx';
import { useI18n } from '../i18n/index.tsx';
import { homeOf, useMe } from '../session.tsx';

export function NotAllowed() {
  const { t } = useI18n();
  const me = useMe();
  return (
    <Page title={t('notAllowed.title')}>
      <p className="note note-error" role="alert" data-testid="not-allowed">
        {t('notAllowed.body')}
      </p>
      <p>
        <Link to={homeOf(me)}>{t('notAllowed.back')}</Link>
      </p>
    </Page>
  );
}

export function NotFound() {
  const { t } = useI18n();
  const me = useMe();
  return (
    <Page title={t('notFound.title')}>
      <p>{t('notFound.body')}</p>
      <p>
        <Link to={homeOf(me)}>{t('notAllowed.back')}</Link>
      </p>
    </Page>
  );
}
