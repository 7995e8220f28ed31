import graphene

from graph.mutations import Mutation
from graph.queries import Query

schema = graphene.Schema(query=Query, mutation=Mutation)
