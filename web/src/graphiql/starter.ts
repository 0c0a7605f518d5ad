// What a new partner analyst sees first in GraphiQL: how to authenticate, then a query that
// works for any analyst. Plain text, so starter.test.ts validates it against the schema.
export const STARTER_QUERY = `# Welcome to the Group Analyst API.
#
# 1. Get a token: sign in below (run the "SignIn" mutation with your email and
#    password), or ask your admin for a personal API token.
# 2. Paste it into the Headers tab at the bottom, as:
#      {"Authorization": "Bearer ga_..."}
#    Headers are not saved in this browser unless you turn on "Persist headers"
#    in the settings (gear icon): leave it off on a shared computer.
# 3. Run "MyGroups" with the play button (or Ctrl+Enter).
#
# The Docs panel (book icon) lists every field you can ask for.

mutation SignIn {
  login(input: {email: "you@example.com", password: "your password"}) {
    token
    expiresAt
  }
}

query MyGroups {
  viewer { firstName lastName roles }
  groups(first: 10) {
    totalCount
    edges {
      node {
        id
        name
        progressSummary {
          course { name }
          enrolled notStarted inProgress completed
          averagePercentCompleted completionRate
        }
      }
    }
  }
}
`;
