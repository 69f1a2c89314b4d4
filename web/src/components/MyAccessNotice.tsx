import type { MyTemplateState } from '../api/types.ts';
import { formatDuration } from '../lib/format.ts';
import { Link } from '../router.tsx';
import { Time } from './Time.tsx';

/** "2 hours 5 minutes" from seconds, whole minutes; under a minute says so. */
const timeLeft = (seconds: number) => (seconds < 60 ? 'less than a minute' : formatDuration(Math.floor(seconds / 60)));

/**
 * What the user already has from a template: a pending request, or active or scheduled
 * access, with a link to it. Shown on the catalogue card and above the request form, so
 * nobody fills a form that ends in "you already have an open request".
 */
export function MyAccessNotice({ mine, templateName }: { mine: MyTemplateState; templateName: string }) {
  const view = (
    <Link to={`/requests/${mine.request_id}`} className="my-access-link">
      View<span className="visually-hidden"> your request for {templateName}</span>
    </Link>
  );
  return (
    <p className={`notice my-access my-access-${mine.state}`} data-testid="my-access">
      {mine.state === 'pending' && <>Request pending — {view}</>}
      {mine.state === 'active' && (
        <>
          Active{mine.seconds_left !== null && <>, {timeLeft(mine.seconds_left)} left</>} — {view}
        </>
      )}
      {mine.state === 'scheduled' && (
        <>
          Scheduled, starts <Time iso={mine.starts_at} /> — {view}
        </>
      )}
    </p>
  );
}
