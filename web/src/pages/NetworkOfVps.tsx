// A VPS's traffic (R3.13) and network blocks (R5.1), for the client (/client/vps/<id>/network)
// and staff (/console/vps/<id>/network), until the VPS detail pages carry these cards.
import { NetworkBlocksCard } from '../components/NetworkBlocks.tsx';
import { TrafficCard } from '../components/TrafficCard.tsx';
import { Page } from '../components/ui.tsx';
import { useI18n } from '../i18n/index.tsx';

export function VpsNetworkPage({ id }: { id: string }) {
  const { t } = useI18n();
  return (
    <Page title={t('traffic.pageTitle')}>
      <TrafficCard vpsId={id} />
      <NetworkBlocksCard vpsId={id} />
    </Page>
  );
}
