/**
 * The seed's secret (`short-cut/prod/app`, one JSON secret with every key of the app) with fake but
 * distinctive values, so a leak scan can find any of them in any output.
 */
export const GCP_KEY = {
  type: 'service_account',
  project_id: 'short-cut-test',
  private_key_id: 'seeded0f1e2d3c4b5a69788796a5b4c3d2e1f0a1',
  private_key:
    '-----BEGIN PRIVATE KEY-----\nMIIEvSEEDEDprivatekeymaterialQJKLMNOPQRSTUVWXYZabcdefghijklmnop\n-----END PRIVATE KEY-----\n',
  client_email: 'render@short-cut-test.iam.gserviceaccount.com',
  client_id: '109876543210987654321',
  token_uri: 'https://oauth2.googleapis.com/token',
};

export const SEED_SECRET_NAME = 'short-cut/prod/app';

export const SEED_SECRET: Record<string, string> = {
  OPENAI_API_KEY: 'sk-proj-SEEDED-openai-7f3a9c1d2e4b',
  PINECONE_API_KEY: 'pcsk_SEEDED_pinecone_5b8e2a91',
  GCP_PROJECT_ID: 'short-cut-test',
  GOOGLE_APPLICATION_CREDENTIALS_JSON: JSON.stringify(GCP_KEY),
  APP_SECRET_KEY: "SEEDED-app-secret-'quoted'-$(not run)-`nor this`",
  MILVUS_HOST: 'milvus.internal.seeded.example',
  MILVUS_PORT: '19530',
};

/** The values a leak scan looks for (long and distinctive enough not to appear by chance). */
export const SEED_VALUES: readonly string[] = [
  SEED_SECRET.OPENAI_API_KEY!,
  SEED_SECRET.PINECONE_API_KEY!,
  SEED_SECRET.APP_SECRET_KEY!,
  SEED_SECRET.MILVUS_HOST!,
  SEED_SECRET.GOOGLE_APPLICATION_CREDENTIALS_JSON!,
  GCP_KEY.private_key_id,
  'MIIEvSEEDEDprivatekeymaterial',
];
