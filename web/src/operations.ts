// Every operation the dashboard sends, each asking only for the fields its view shows.
// Typed by GraphQL Code Generator from ../schema.graphql (`npm run codegen`).
import { graphql } from "./gql";

export const LoginMutation = graphql(`
  mutation Login($email: String!, $password: String!) {
    login(input: { email: $email, password: $password }) {
      token
    }
  }
`);

export const LogoutMutation = graphql(`
  mutation Logout {
    logout {
      apiToken {
        id
      }
    }
  }
`);

export const ViewerQuery = graphql(`
  query Viewer {
    viewer {
      id
      firstName
      lastName
      roles
    }
  }
`);

export const HomeQuery = graphql(`
  query Home($after: String) {
    viewer {
      id
      analystAssignments {
        id
        expiresAt
        status
        group {
          id
        }
      }
    }
    groups(first: 10, after: $after) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        node {
          id
          name
          members(first: 1) {
            totalCount
          }
          progressSummary {
            course {
              id
              name
            }
            enrolled
            notStarted
            inProgress
            completed
            averagePercentCompleted
            completionRate
          }
        }
      }
    }
  }
`);

export const GroupQuery = graphql(`
  query GroupPage($id: ID!, $first: Int!, $after: String, $filter: ProgressFilter) {
    node(id: $id) {
      ... on Group {
        id
        name
        progressSummary {
          course {
            id
            name
          }
        }
        progress(first: $first, after: $after, filter: $filter) {
          totalCount
          pageInfo {
            hasNextPage
            endCursor
          }
          edges {
            node {
              id
              student {
                id
                firstName
                lastName
                email
              }
              course {
                id
                name
              }
              progress {
                id
                percentViewed
                percentCompleted
                status
                completedAt
                expiresAt
              }
            }
          }
        }
      }
    }
  }
`);

export const ExportUrlQuery = graphql(`
  query ExportUrl(
    $groupIds: [ID!]
    $courseIds: [ID!]
    $status: ProgressStatus
    $format: ExportFormat
    $timeZone: String
  ) {
    progressExportUrl(
      groupIds: $groupIds
      courseIds: $courseIds
      status: $status
      format: $format
      timeZone: $timeZone
    )
  }
`);

export const UsersQuery = graphql(`
  query AdminUsers($first: Int!, $after: String, $filter: UserFilter) {
    users(first: $first, after: $after, filter: $filter) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        node {
          id
          firstName
          lastName
          email
          roles
        }
      }
    }
  }
`);

export const GroupChoicesQuery = graphql(`
  query GroupChoices($search: String) {
    groups(first: 100, filter: { search: $search }) {
      totalCount
      edges {
        node {
          id
          name
        }
      }
    }
  }
`);

export const UserQuery = graphql(`
  query AdminUser($id: ID!) {
    site {
      plan
      groupAnalystSeats {
        used
        limit
      }
    }
    node(id: $id) {
      ... on User {
        id
        firstName
        lastName
        email
        company
        roles
        analystAssignments {
          id
          assignedAt
          expiresAt
          group {
            id
            name
          }
        }
      }
    }
  }
`);

export const SetRolesMutation = graphql(`
  mutation SetUserRoles($userId: ID!, $roles: [Role!]!) {
    setUserRoles(input: { userId: $userId, roles: $roles }) {
      user {
        id
        roles
      }
    }
  }
`);

export const AssignMutation = graphql(`
  mutation AssignGroupAnalyst($userId: ID!, $groupId: ID!, $expiresAt: DateTime) {
    assignGroupAnalyst(input: { userId: $userId, groupId: $groupId, expiresAt: $expiresAt }) {
      assignment {
        id
      }
    }
  }
`);

export const UnassignMutation = graphql(`
  mutation UnassignGroupAnalyst($userId: ID!, $groupId: ID!) {
    unassignGroupAnalyst(input: { userId: $userId, groupId: $groupId }) {
      removed
    }
  }
`);
