/** Shown where a page's API is not in this server yet: the page says so rather than invent data. */
export function Pending({ title, api }: { title: string; api: string }) {
  return (
    <>
      <h1>{title}</h1>
      <p className="muted" data-testid="pending">
        This server does not offer <code>{api}</code> yet, so there is nothing to show here.
      </p>
    </>
  );
}
