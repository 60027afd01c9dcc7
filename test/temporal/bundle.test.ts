import { workflowSources } from '../../temporal/bundle';

describe('workflow bundle sources', () => {
  it('follow the workflow’s runtime imports into other folders, and not its type-only imports', async () => {
    const files = await workflowSources();
    // The front policy and failure list are bundled into the workflow: editing them must rebuild it.
    expect(files).toEqual(
      expect.arrayContaining([
        'workflows/index.ts',
        'workflows/search.ts',
        'search/frontPolicy.ts',
        'common/failures.ts',
      ]),
    );
    // `import type { Activities }` is erased: activity code never enters the bundle.
    expect(files).not.toContain('activities/index.ts');
  });
});
