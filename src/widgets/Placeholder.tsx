/** A titled panel reserving the place of a component that is not built yet. */
export function Placeholder({ title, note }: { title: string; note: string }) {
  return (
    <section className="placeholder" aria-label={title}>
      <h3>{title}</h3>
      <p>{note}</p>
    </section>
  );
}
